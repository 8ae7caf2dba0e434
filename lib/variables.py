"""Every environment variable ``main.py`` reads: one registry of their names, defaults and
meanings.

``VARIABLES`` is what docs/reference/configuration.md shows (tools/docs.py writes it), what the
change scenarios must cover (tests/e2e/changes.py: each is planned against a live environment
or said why not) and what the workflows may set. The validation itself is ``lib.config``'s;
``tests/unit/test_variables.py`` checks that every variable ``load_settings`` reads is here
and that the defaults written here are the ones it applies. Nothing here imports jsii.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, its default (as a person writes it) and meaning."""

    name: str
    default: str
    meaning: str
    group: str = "stack"  # stack, network, edge, data, application, lifecycle, shared
    # Also read by the shared stack (SHARED_PLATFORM); it refuses every other variable.
    platform: bool = False


# The shared pieces (docs/decisions/shared-pr-environments.md): given together, with VPC_ID, to
# an ephemeral environment; the shared stack's outputs are exactly these five values.
_SHARED = "given with the other four and `VPC_ID` to a pull-request environment (shared mode): "

VARIABLES: tuple[Variable, ...] = (
    Variable("ENVIRONMENT_SUFFIX", "dev", "environment name: 1-20 lowercase letters and digits, "
             "starting with a letter; part of every resource name and of the stack name "
             "(`TapStack<suffix>`); `pr<n>` is ephemeral, `prod`/`production` production, "
             "anything else standard"),
    Variable("AWS_REGION", "us-east-1", "region of the stack (a commercial AWS region)",
             platform=True),
    Variable("TERRAFORM_STATE_BUCKET", "unset", "S3 bucket of the remote state (key "
             "`<suffix>/TapStack<suffix>.tfstate`, encrypted, native S3 locking: Terraform "
             ">= 1.10; the shared stack's: `shared/TapShared<name>.tfstate`); unset: a local "
             "backend", platform=True),
    Variable("TERRAFORM_STATE_BUCKET_REGION", "us-east-1", "region of that bucket",
             platform=True),
    Variable("REPOSITORY", "unknown", "default tag `Repository` on every resource",
             platform=True),
    Variable("COMMIT_AUTHOR", "unknown", "default tag `Author` on every resource",
             platform=True),
    Variable("ALARM_EMAIL", "unset", "an email subscription on both alarm topics (each asks "
             "to be confirmed once)", platform=True),
    Variable("CREATE_NAT_GATEWAY", "unset (the profile's)", "`true`/`false` overrides the "
             "profile's NAT layout (`true` on an ephemeral profile means one NAT gateway)",
             "network"),
    Variable("VPC_CIDR", "10.0.0.0/16", "private IPv4 range of the VPC the stack makes, /16 "
             "to /20 (refused with `VPC_ID`)", "network"),
    Variable("VPC_ID", "unset", "a network given by the platform team: the VPC to deploy "
             "into; needs the three subnet lists (all four or none) and refuses `VPC_CIDR` and "
             "`CREATE_NAT_GATEWAY`", "network", platform=True),
    Variable("PUBLIC_SUBNET_IDS", "unset", "with `VPC_ID`: the load balancer's subnets "
             "(comma separated, at least two AZs); the plan fails naming a subnet outside the "
             "VPC", "network", platform=True),
    Variable("PRIVATE_SUBNET_IDS", "unset", "with `VPC_ID`: the cache's and the tasks' "
             "subnets (and the shared load balancer's)", "network", platform=True),
    Variable("ISOLATED_SUBNET_IDS", "unset", "with `VPC_ID`: the database's subnets", "network",
             platform=True),
    Variable("TASK_SUBNETS", "private", "with `VPC_ID` only: `private` (the network's NAT or "
             "endpoints reach ECR and AWS APIs) or `public` (public IPs, for networks without "
             "NAT)", "network"),
    Variable("CERTIFICATE_ARN", "unset", "ACM certificate in `AWS_REGION` for an HTTPS "
             "listener: CloudFront then reaches the load balancer over HTTPS (TLS 1.2) and port "
             "80 redirects; needs `DOMAIN_NAMES`, which it must cover", "edge"),
    Variable("DOMAIN_NAMES", "unset", "comma-separated aliases of the distribution; need "
             "`HOSTED_ZONE_ID` or `EDGE_CERTIFICATE_ARN`", "edge"),
    Variable("HOSTED_ZONE_ID", "unset", "public Route 53 zone of `DOMAIN_NAMES`: the stack "
             "makes and validates the viewer certificate and the alias records", "edge"),
    Variable("EDGE_CERTIFICATE_ARN", "unset", "your own ACM certificate in us-east-1 for the "
             "aliases (the stack makes no DNS records then)", "edge"),
    Variable("DB_ENGINE_VERSION", "16.6", "Aurora PostgreSQL `MAJOR.MINOR` with Serverless v2 "
             "scale-to-0 (13.15+, 14.12+, 15.7+, 16.3+, 17+); refused beside shared pieces",
             "data", platform=True),
    Variable("CACHE_ENGINE", "valkey", "`valkey` (major 8) or `redis` (Redis OSS 7)", "data"),
    Variable("DB_SNAPSHOT_IDENTIFIER", "unset", "create the cluster from this DB cluster "
             "snapshot (an identifier or a shared snapshot's ARN); read only when the cluster "
             "is created; the plan fails when it does not exist or is not Aurora PostgreSQL",
             "data"),
    Variable("APP_MANIFEST", "app.toml if present", "the application's manifest "
             "(docs/reference/manifest.md); none: the platform's default container",
             "application"),
    Variable("CONTAINER_IMAGE", "the manifest's, else public.ecr.aws/nginx/nginx:1.27-alpine",
             "the service's image; `ecr:<repository>:<tag>` is this account's ECR in the "
             "stack's region; wins over the manifest (CI deploys by digest)", "application"),
    Variable("CONTAINER_PORT", "the manifest's, else 80", "the container's port; wins over "
             "the manifest", "application"),
    Variable("HEALTH_CHECK_PATH", "the manifest's, else /", "the load balancer's health check "
             "path (liveness only); wins over the manifest", "application"),
    Variable("CPU_ARCHITECTURE", "X86_64", "`X86_64` or `ARM64` (ARM64 uses no Fargate Spot)",
             "application"),
    Variable("SHARED_WEB_ACL_ARN", "unset", _SHARED + "a WAFv2 web ACL of scope CLOUDFRONT "
             "(us-east-1) that the distribution uses; the environment then makes no web ACL "
             "and no WAF logging", "shared"),
    Variable("SHARED_LISTENER_ARN", "unset", _SHARED + "the HTTP listener of the shared internal "
             "load balancer in `AWS_REGION`: the environment adds its target group and one "
             "listener rule (its origin-verify header; priority: the pull-request number)",
             "shared"),
    Variable("SHARED_VPC_ORIGIN_ARN", "unset", _SHARED + "that load balancer's CloudFront VPC "
             "origin, the distribution's origin (checked when the distribution is created: "
             "provider 5.100 has no data source for it)", "shared"),
    Variable("SHARED_DB_CLUSTER_ARN", "unset", _SHARED + "an Aurora PostgreSQL cluster with IAM "
             "authentication and the RDS Data API: the deploy makes the database `tap_<suffix>` "
             "and its roles there (tools/shared_database.py)", "shared"),
    Variable("SHARED_CACHE_ARN", "unset", _SHARED + "a Valkey serverless cache whose user group "
             "the shared stack made: the environment adds its own user `tap-<suffix>`, limited "
             "to keys `tap:<suffix>:*`", "shared"),
    Variable("SHARED_PLATFORM", "unset", "a name (1-12 lowercase letters and digits): `main.py` "
             "then synthesizes the shared stack `TapShared<name>` (`make shared-deploy`) "
             "instead of an environment; it reads only the variables marked for it here",
             "shared", platform=True),
    Variable("ALLOW_DESTROY", "unset (false)", "`true`: the deliberate production teardown "
             "(lifts prevent_destroy and the deletion protections, empties the log buckets); "
             "refused on other profiles, where nothing is protected", "lifecycle"),
)
GROUPS = ("stack", "network", "edge", "data", "application", "lifecycle", "shared")
