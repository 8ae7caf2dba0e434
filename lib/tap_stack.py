"""TapStack: one environment in one Terraform state.

Configures the providers (the stack's region, plus an aliased ``us-east-1`` provider
for global resources), tags, the backend (S3 with native locking when a state bucket
is configured, local otherwise), composes the tiers, wires them together and declares
the contract's outputs. Dependencies flow one way: network -> data -> app -> edge ->
monitoring; only this module wires constructs together.
"""
from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from lib.config import GLOBAL_REGION, Settings
from lib.naming import PROJECT, Names
from lib.network import Network, NetworkProps

GLOBAL_PROVIDER_ALIAS = "global"
REQUIRED_TERRAFORM = ">= 1.10"  # use_lockfile (native S3 state locking) needs 1.10


class TapStack(TerraformStack):
    """The whole web platform of one environment."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(scope, settings.stack_name)
        self.settings = settings
        names = Names(settings)
        self.names = names
        tags = AwsProviderDefaultTags(tags={
            "Environment": settings.environment_suffix,
            "Repository": settings.repository,
            "Author": settings.commit_author,
            "Project": PROJECT,
            "Profile": settings.profile.name,
            "ManagedBy": "cdktf",
        })
        self.provider = AwsProvider(self, "aws", region=settings.aws_region, default_tags=[tags])
        self.global_provider = AwsProvider(self, "aws-global", region=GLOBAL_REGION,
                                           alias=GLOBAL_PROVIDER_ALIAS, default_tags=[tags])
        self._backend(settings)
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)

        account_id = DataAwsCallerIdentity(self, "caller").account_id
        network = Network(self, "network", props=NetworkProps(
            settings=settings, names=names, account_id=account_id))
        self.network = network

        # -- data tier: lib/data_tier.py --

        # -- application tier: lib/app_tier.py --

        # -- edge: lib/edge.py --

        # -- monitoring: lib/monitoring.py --

        # -- outputs --
        self._output("vpc_id", network.vpc_id, "ID of the VPC")
        self._output("public_subnet_ids", network.public_subnet_ids,
                     "Public subnets (load balancer, NAT), one per AZ")
        self._output("private_subnet_ids", network.private_subnet_ids,
                     "Private application subnets, one per AZ")
        self._output("isolated_subnet_ids", network.isolated_subnet_ids,
                     "Isolated database subnets (no internet route), one per AZ")
        self._output("environment_suffix", settings.environment_suffix,
                     "Environment suffix this stack was synthesized for")
        self._output("aws_region", settings.aws_region, "Region of the stack")

    def _backend(self, settings: Settings) -> None:
        if settings.state_bucket is None:
            LocalBackend(self, path=f"terraform.{settings.stack_name}.tfstate")
            return
        S3Backend(self, bucket=settings.state_bucket,
                  key=f"{settings.environment_suffix}/{settings.stack_name}.tfstate",
                  region=settings.state_bucket_region, encrypt=True)
        # cdktf 0.21's S3Backend has no use_lockfile field yet; Terraform >= 1.10 reads it.
        self.add_override("terraform.backend.s3.use_lockfile", True)

    def _output(self, name: str, value: object, description: str,
                sensitive: bool = False) -> TerraformOutput:
        """An output whose Terraform name is exactly ``name`` (the contract's)."""
        output = TerraformOutput(self, name, value=value, description=description,
                                 sensitive=sensitive)
        output.override_logical_id(name)
        return output
