"""Settings: the environment read once, validated, and the per-profile table.

``load_settings(environ)`` turns the contract's environment variables into one frozen
``Settings`` object or raises ``ConfigError`` with a one-line message naming the
variable, the bad value and what is allowed. ``PROFILES`` (lib/profiles.py, re-exported
here) holds every choice that differs between the ephemeral, standard and production
profiles; constructs read these values and never look at the suffix themselves.

The shared mode (``SharedPieces``): an ephemeral environment in a given network may be given
five pieces the platform team runs once per account (lib/shared_stack.py), all or none: a
CLOUDFRONT web ACL, a listener of a shared internal load balancer, that load balancer's
CloudFront VPC origin, an Aurora cluster and a serverless cache. Their ARNs are checked here
(lib/arns.py); the plan reads each through a data source, so a missing one fails the plan naming
it (the VPC origin, which provider 5.100 cannot read, when the distribution is created).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Mapping

from lib.errors import ConfigError
from lib.manifest import Manifest, manifest_path, read_manifest
# The profiles' table lives in lib/profiles.py; the stack and the tools read it from here.
from lib.profiles import (EPHEMERAL, NAT_NONE, NAT_PER_AZ, NAT_SINGLE,  # noqa: F401  # pylint: disable=unused-import
                          PRODUCTION, PROFILES, STANDARD, Profile)
# The Region facts live in lib/regions.py; VPC_ORIGIN_UNAVAILABLE_AZ_IDS and GLOBAL_REGION are
# also read from here by the constructs.
from lib.shared_config import SharedPieces, shared_pieces
from lib.variables import VARIABLES
from lib.regions import (AWS_REGIONS, DEFAULT_REGION, GLOBAL_REGION,  # noqa: F401  # pylint: disable=unused-import
                         TWO_AZ_REGIONS, VPC_ORIGIN_UNAVAILABLE_AZ_IDS,
                         VPC_ORIGIN_UNAVAILABLE_REGIONS)


# The header CloudFront adds and the load balancer's listener rule requires.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
DEFAULT_CONTAINER_IMAGE = "public.ecr.aws/nginx/nginx:1.27-alpine"
DEFAULT_VPC_CIDR = "10.0.0.0/16"
# Aurora PostgreSQL 16.6 supports Serverless v2 scaling to 0 ACU (16.3+) and is offered
# in every commercial region; docs/architecture.md says where that was checked.
DEFAULT_DB_ENGINE_VERSION = "16.6"
# The oldest minor of each Aurora PostgreSQL major whose Serverless v2 instances can scale
# to 0 ACU and auto-pause (the ephemeral profile does); every release from major 17 can.
DB_AUTO_PAUSE_MINIMUM_MINORS = {13: 15, 14: 12, 15: 7, 16: 3}
DB_AUTO_PAUSE_ALL_FROM_MAJOR = 17
CACHE_ENGINES = ("valkey", "redis")
DEFAULT_CACHE_ENGINE = "valkey"
CPU_ARCHITECTURES = ("X86_64", "ARM64")

_SUFFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,19}$")
_PLATFORM_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_EPHEMERAL_RE = re.compile(r"^pr\d+$")
_PRODUCTION_SUFFIXES = frozenset({"prod", "production"})
_TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
_BUCKET_RE = re.compile(r"^(?!xn--)(?!sthree-)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# A full image reference, or "ecr:<repository>[:tag][@sha256:...]": a repository of this
# account's ECR in the stack's region (lib/container.py resolves it at synth).
_IMAGE_RE = re.compile(
    r"^(ecr:)?[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)
_ACM_ARN_RE = re.compile(r"^arn:aws:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}$")
_ENGINE_VERSION_RE = re.compile(r"^\d{2}\.\d{1,2}$")
_DOMAIN_RE = re.compile(
    r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
# A DB cluster snapshot identifier (CreateDBClusterSnapshot: 1-255 letters, digits, hyphens;
# first a letter; no two hyphens in a row; not ending with one), or the ARN of a snapshot
# shared from another account.
_SNAPSHOT_RE = re.compile(
    r"^(arn:aws:rds:[a-z0-9-]+:\d{12}:cluster-snapshot:)?[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}"
    r"(?<!-)$")
_VPC_ID_RE = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_ID_RE = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_LIST_VARIABLES = {"public": "PUBLIC_SUBNET_IDS", "private": "PRIVATE_SUBNET_IDS",
                         "isolated": "ISOLATED_SUBNET_IDS"}
MIN_SUBNETS_PER_TIER = 2
# Where the tasks run in a network the stack does not own: "private" (default) relies on
# the network owner's egress (NAT or VPC endpoints) to pull images and reach AWS APIs;
# "public" gives them public IPs in the public subnets, like the ephemeral profile.
TASK_SUBNET_CHOICES = ("private", "public")
_HOSTED_ZONE_RE = re.compile(r"^[A-Z0-9]{1,32}$")  # Route 53 ids: Z... on AWS
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def profile_name_for(suffix: str) -> str:
    """The profile of an environment suffix: the whole suffix is matched, never a prefix."""
    if _EPHEMERAL_RE.match(suffix):
        return EPHEMERAL
    if suffix in _PRODUCTION_SUFFIXES:
        return PRODUCTION
    return STANDARD


@dataclass(frozen=True)
class ExistingNetwork:
    """A network the stack uses but does not own (VPC_ID and the three subnet lists)."""

    vpc_id: str
    public_subnet_ids: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    isolated_subnet_ids: tuple[str, ...]
    task_subnets: str = "private"  # TASK_SUBNET_CHOICES

    def subnet_ids(self, tier: str) -> tuple[str, ...]:
        """The given subnets of ``tier`` (public, private or isolated)."""
        return {"public": self.public_subnet_ids, "private": self.private_subnet_ids,
                "isolated": self.isolated_subnet_ids}[tier]


@dataclass(frozen=True)
class Settings:  # pylint: disable=too-many-instance-attributes
    """The validated configuration of one environment."""

    environment_suffix: str
    aws_region: str
    profile: Profile
    state_bucket: str | None = None
    state_bucket_region: str = DEFAULT_REGION
    repository: str = "unknown"
    commit_author: str = "unknown"
    create_nat_gateway: bool | None = None  # None: the profile decides
    alarm_email: str | None = None
    container_image: str = DEFAULT_CONTAINER_IMAGE
    container_port: int = 80
    health_check_path: str = "/"
    cpu_architecture: str = "X86_64"
    certificate_arn: str | None = None  # regional ACM certificate for the ALB's HTTPS listener
    edge_certificate_arn: str | None = None  # us-east-1 ACM certificate for CloudFront aliases
    domain_names: tuple[str, ...] = ()
    hosted_zone_id: str | None = None  # public zone: the stack makes certificate and records
    db_engine_version: str = DEFAULT_DB_ENGINE_VERSION
    cache_engine: str = DEFAULT_CACHE_ENGINE
    vpc_cidr: str = DEFAULT_VPC_CIDR
    allow_destroy: bool = False  # ALLOW_DESTROY: the deliberate production teardown
    existing_network: ExistingNetwork | None = None  # bring your own network (VPC_ID...)
    manifest: Manifest | None = None  # the application's app.toml (APP_MANIFEST), if any
    db_snapshot_identifier: str | None = None  # DB_SNAPSHOT_IDENTIFIER: restore from it
    shared: SharedPieces | None = None  # the shared mode: the pieces the platform gives

    @property
    def prevent_destroy(self) -> bool:
        """Stateful resources carry ``prevent_destroy`` (production, unless ALLOW_DESTROY)."""
        return self.profile.prevent_destroy and not self.allow_destroy

    @property
    def db_deletion_protection(self) -> bool:
        """Aurora's deletion protection: the profile's, lifted by ALLOW_DESTROY."""
        return self.profile.deletion_protection and not self.allow_destroy

    @property
    def alb_deletion_protection(self) -> bool:
        """The load balancer's deletion protection: the profile's, lifted by ALLOW_DESTROY."""
        return self.profile.alb_deletion_protection and not self.allow_destroy

    @property
    def force_destroy_buckets(self) -> bool:
        """Destroy empties the log buckets: the profile's choice, or the teardown's."""
        return self.profile.force_destroy_buckets or self.allow_destroy

    @property
    def stack_name(self) -> str:
        """``TapStack{suffix}``, the contract's stack name."""
        return f"TapStack{self.environment_suffix}"

    @property
    def nat_mode(self) -> str:
        """The NAT layout the stack creates: the profile's, unless CREATE_NAT_GATEWAY
        overrides it; none in a network the stack does not own."""
        if self.existing_network is not None:
            return NAT_NONE
        if self.create_nat_gateway is None:
            return self.profile.nat
        if not self.create_nat_gateway:
            return NAT_NONE
        return NAT_SINGLE if self.profile.nat == NAT_NONE else self.profile.nat

    @property
    def az_count(self) -> int:
        """Availability zones used: three, or two where the region offers only two."""
        return 2 if self.aws_region in TWO_AZ_REGIONS else 3

    @property
    def private_origin(self) -> bool:
        """CloudFront reaches an internal load balancer through a VPC origin, wherever
        VPC origins are offered; elsewhere the load balancer is internet-facing."""
        return self.aws_region not in VPC_ORIGIN_UNAVAILABLE_REGIONS

    @property
    def tasks_in_public_subnets(self) -> bool:
        """Without NAT the tasks run in public subnets with public IPs
        (docs/decisions/egress-without-nat.md); in a
        network the stack does not own, where TASK_SUBNETS says."""
        if self.existing_network is not None:
            return self.existing_network.task_subnets == "public"
        return self.nat_mode == NAT_NONE


def _choice(environ: Mapping[str, str], variable: str, default: str, allowed: tuple[str, ...],
            ) -> str:
    value = environ.get(variable, default)
    if value not in allowed:
        raise ConfigError(variable, value, "allowed: " + ", ".join(allowed))
    return value


def _matching(environ: Mapping[str, str], variable: str, pattern: re.Pattern[str],
              allowed: str, default: str | None = None) -> str | None:
    value = environ.get(variable)
    if value is None or value == "":
        return default
    if not pattern.match(value):
        raise ConfigError(variable, value, allowed)
    return value


def _region(environ: Mapping[str, str], variable: str) -> str:
    value = environ.get(variable) or DEFAULT_REGION
    if value not in AWS_REGIONS:
        raise ConfigError(variable, value, "a commercial AWS region name such as us-east-1")
    return value


def _optional_bool(environ: Mapping[str, str], variable: str) -> bool | None:
    value = environ.get(variable, "")
    if value == "":
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(variable, value, "true or false (or unset for the profile's choice)")


def _port(environ: Mapping[str, str], variable: str, default: int = 80) -> int:
    value = environ.get(variable) or str(default)
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(variable, value, "a TCP port number from 1 to 65535")
    return int(value)


def _vpc_cidr(environ: Mapping[str, str]) -> str:
    value = environ.get("VPC_CIDR") or DEFAULT_VPC_CIDR
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError:
        network = None
    if network is None or not 16 <= network.prefixlen <= 20 or not network.is_private:
        raise ConfigError("VPC_CIDR", value, "a private IPv4 network from /16 to /20, e.g. 10.0.0.0/16")
    return str(network)


def _db_engine_version(environ: Mapping[str, str]) -> str:
    allowed = ("an Aurora PostgreSQL version MAJOR.MINOR with Serverless v2 auto-pause: "
               "13.15+, 14.12+, 15.7+, 16.3+ or any 17.x and later, e.g. "
               + DEFAULT_DB_ENGINE_VERSION)
    value = str(_matching(environ, "DB_ENGINE_VERSION", _ENGINE_VERSION_RE, allowed,
                          DEFAULT_DB_ENGINE_VERSION))
    major, minor = (int(part) for part in value.split("."))
    minimum = DB_AUTO_PAUSE_MINIMUM_MINORS.get(major)
    if major < DB_AUTO_PAUSE_ALL_FROM_MAJOR and (minimum is None or minor < minimum):
        raise ConfigError("DB_ENGINE_VERSION", value, allowed)
    return value


def _domain_names(environ: Mapping[str, str]) -> tuple[str, ...]:
    value = environ.get("DOMAIN_NAMES", "")
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    for name in names:
        if not _DOMAIN_RE.match(name):
            raise ConfigError("DOMAIN_NAMES", value,
                              "comma-separated lowercase DNS names such as app.example.com")
    return names


def _hosted_zone(environ: Mapping[str, str], domain_names: tuple[str, ...]) -> str | None:
    """HOSTED_ZONE_ID: the public zone in which the stack makes the viewer certificate's
    validation records and the alias records of DOMAIN_NAMES. That the names lie inside
    the zone can only be known from the zone's name, so the plan checks it."""
    zone = _matching(environ, "HOSTED_ZONE_ID", _HOSTED_ZONE_RE,
                     "a Route 53 hosted zone id (up to 32 uppercase letters or digits, "
                     "e.g. Z0123456789ABCDEFGHIJ)")
    if zone is None:
        return None
    if not domain_names:
        raise ConfigError("HOSTED_ZONE_ID", zone, "needs DOMAIN_NAMES, the names to serve in "
                                                  "that zone")
    if environ.get("EDGE_CERTIFICATE_ARN"):
        raise ConfigError("HOSTED_ZONE_ID", zone,
                          "HOSTED_ZONE_ID (the stack makes the certificate) and "
                          "EDGE_CERTIFICATE_ARN (your own) exclude each other: set one")
    return zone


def _certificates(environ: Mapping[str, str], region: str, domain_names: tuple[str, ...],
                  hosted_zone_id: str | None) -> tuple[str | None, str | None]:
    allowed = "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"
    regional = _matching(environ, "CERTIFICATE_ARN", _ACM_ARN_RE, allowed)
    if regional is not None and _ACM_ARN_RE.match(regional).group(1) != region:  # type: ignore[union-attr]
        raise ConfigError("CERTIFICATE_ARN", regional, f"{allowed} in AWS_REGION {region}")
    edge = _matching(environ, "EDGE_CERTIFICATE_ARN", _ACM_ARN_RE, allowed)
    if edge is not None and _ACM_ARN_RE.match(edge).group(1) != GLOBAL_REGION:  # type: ignore[union-attr]
        raise ConfigError("EDGE_CERTIFICATE_ARN", edge, f"{allowed} in {GLOBAL_REGION}")
    if edge is not None and not domain_names:
        raise ConfigError("EDGE_CERTIFICATE_ARN", edge, "needs DOMAIN_NAMES, the names it "
                                                        "covers")
    if domain_names and edge is None and hosted_zone_id is None:
        raise ConfigError("DOMAIN_NAMES", ",".join(domain_names),
                          "needs a viewer certificate: HOSTED_ZONE_ID (the stack makes it) "
                          "or EDGE_CERTIFICATE_ARN (your own)")
    if regional is not None and not domain_names:
        # CloudFront checks the ALB's certificate against the Host it forwards; no
        # certificate covers the ALB's own *.elb.amazonaws.com name, so an HTTPS origin
        # only works behind the viewer's own domain names.
        raise ConfigError("CERTIFICATE_ARN", regional,
                          "an HTTPS origin needs DOMAIN_NAMES (with HOSTED_ZONE_ID or "
                          "EDGE_CERTIFICATE_ARN) too (the certificate must cover those names)")
    return regional, edge


def _allow_destroy(environ: Mapping[str, str], profile: Profile) -> bool:
    """ALLOW_DESTROY: only a protected (production) environment has anything to lift, so
    ``true`` elsewhere is refused rather than silently meaningless."""
    value = _optional_bool(environ, "ALLOW_DESTROY")
    if value and not profile.prevent_destroy:
        raise ConfigError("ALLOW_DESTROY", environ["ALLOW_DESTROY"],
                          f"only production environments (prod, production) are protected; "
                          f"a {profile.name} environment is destroyed without it (unset it "
                          f"or set false)")
    return bool(value)


def _subnet_list(environ: Mapping[str, str], variable: str, seen: set[str]) -> tuple[str, ...]:
    value = environ.get(variable, "")
    ids = tuple(part.strip() for part in value.split(",") if part.strip())
    if len(ids) < MIN_SUBNETS_PER_TIER:
        raise ConfigError(variable, value, f"at least {MIN_SUBNETS_PER_TIER} comma-separated "
                          "subnet ids (VPC_ID and the three subnet lists: all or none)")
    for subnet_id in ids:
        if not _SUBNET_ID_RE.match(subnet_id):
            raise ConfigError(variable, value, f"{subnet_id!r} is not a subnet id "
                              "(subnet- and 8 or 17 hexadecimal digits)")
        if subnet_id in seen:
            raise ConfigError(variable, value, f"{subnet_id} is given twice; each subnet "
                              "belongs to one tier")
        seen.add(subnet_id)
    return ids


def _existing_network(environ: Mapping[str, str]) -> ExistingNetwork | None:
    """VPC_ID with the three subnet lists (all or none), and TASK_SUBNETS."""
    vpc_id = environ.get("VPC_ID", "")
    if not vpc_id:
        for variable in (*SUBNET_LIST_VARIABLES.values(), "TASK_SUBNETS"):
            if environ.get(variable):
                raise ConfigError(variable, environ[variable],
                                  "needs VPC_ID (bring your own network: VPC_ID and the three "
                                  "subnet lists, all or none)")
        return None
    if not _VPC_ID_RE.match(vpc_id):
        raise ConfigError("VPC_ID", vpc_id, "a VPC id (vpc- and 8 or 17 hexadecimal digits)")
    for variable in ("VPC_CIDR", "CREATE_NAT_GATEWAY"):
        if environ.get(variable):
            raise ConfigError(variable, environ[variable],
                              "the stack creates no VPC and no NAT in a network given by "
                              "VPC_ID (unset it)")
    seen: set[str] = set()
    lists = {tier: _subnet_list(environ, variable, seen)
             for tier, variable in SUBNET_LIST_VARIABLES.items()}
    return ExistingNetwork(
        vpc_id=vpc_id, public_subnet_ids=lists["public"], private_subnet_ids=lists["private"],
        isolated_subnet_ids=lists["isolated"],
        task_subnets=_choice(environ, "TASK_SUBNETS", "private", TASK_SUBNET_CHOICES))


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate the environment and build the settings; raises ``ConfigError``."""
    suffix = environ.get("ENVIRONMENT_SUFFIX") or "dev"
    if not _SUFFIX_RE.match(suffix):
        raise ConfigError("ENVIRONMENT_SUFFIX", suffix,
                          "1-20 characters, lowercase letters and digits, starting with a letter")
    region = _region(environ, "AWS_REGION")
    tag_rule = "1-256 characters: letters, digits, spaces and _ . : / = + - @"
    domain_names = _domain_names(environ)
    hosted_zone_id = _hosted_zone(environ, domain_names)
    certificate_arn, edge_certificate_arn = _certificates(environ, region, domain_names,
                                                          hosted_zone_id)
    profile = PROFILES[profile_name_for(suffix)]
    existing_network = _existing_network(environ)
    shared = shared_pieces(environ, suffix, region, profile, existing_network is not None)
    path = manifest_path(environ)
    manifest = read_manifest(path, _IMAGE_RE, _PATH_RE) if path else None
    return Settings(
        environment_suffix=suffix,
        aws_region=region,
        profile=profile,
        state_bucket=_matching(environ, "TERRAFORM_STATE_BUCKET", _BUCKET_RE,
                               "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"),
        state_bucket_region=_region(environ, "TERRAFORM_STATE_BUCKET_REGION"),
        repository=str(_matching(environ, "REPOSITORY", _TAG_VALUE_RE, tag_rule, "unknown")),
        commit_author=str(_matching(environ, "COMMIT_AUTHOR", _TAG_VALUE_RE, tag_rule, "unknown")),
        create_nat_gateway=_optional_bool(environ, "CREATE_NAT_GATEWAY"),
        alarm_email=_matching(environ, "ALARM_EMAIL", _EMAIL_RE, "an email address"),
        # The environment wins over the manifest (CI deploys an image by digest that way).
        container_image=str(_matching(
            environ, "CONTAINER_IMAGE", _IMAGE_RE,
            "a container image reference such as public.ecr.aws/nginx/nginx:1.27-alpine, or "
            "ecr:<repository>:<tag> (this account's ECR)",
            manifest and manifest.image or DEFAULT_CONTAINER_IMAGE)),
        container_port=_port(environ, "CONTAINER_PORT",
                             manifest.port if manifest and manifest.port else 80),
        health_check_path=str(_matching(environ, "HEALTH_CHECK_PATH", _PATH_RE,
                                        "an HTTP path starting with / (at most 1024 characters)",
                                        manifest and manifest.health_check_path or "/")),
        cpu_architecture=_choice(environ, "CPU_ARCHITECTURE", "X86_64", CPU_ARCHITECTURES),
        certificate_arn=certificate_arn,
        edge_certificate_arn=edge_certificate_arn,
        domain_names=domain_names,
        hosted_zone_id=hosted_zone_id,
        db_engine_version=_db_engine_version(environ),
        cache_engine=_choice(environ, "CACHE_ENGINE", DEFAULT_CACHE_ENGINE, CACHE_ENGINES),
        vpc_cidr=_vpc_cidr(environ),
        allow_destroy=_allow_destroy(environ, profile),
        existing_network=existing_network,
        manifest=manifest,
        db_snapshot_identifier=_matching(
            environ, "DB_SNAPSHOT_IDENTIFIER", _SNAPSHOT_RE,
            "a DB cluster snapshot identifier (a letter, then up to 254 letters, digits and "
            "single hyphens, not ending with one) or a cluster-snapshot ARN"),
        shared=shared,
    )


@dataclass(frozen=True)
class PlatformSettings:  # pylint: disable=too-many-instance-attributes
    """The validated configuration of the shared stack (SHARED_PLATFORM, lib/shared_stack.py)."""

    name: str
    aws_region: str
    network: ExistingNetwork
    state_bucket: str | None = None
    state_bucket_region: str = DEFAULT_REGION
    repository: str = "unknown"
    commit_author: str = "unknown"
    alarm_email: str | None = None
    db_engine_version: str = DEFAULT_DB_ENGINE_VERSION

    @property
    def stack_name(self) -> str:
        """``TapShared{name}``."""
        return f"TapShared{self.name}"


def load_platform_settings(environ: Mapping[str, str]) -> PlatformSettings:
    """Validate SHARED_PLATFORM's environment: the variables of lib/variables.py marked
    ``platform``; every other one (the environments' own) is refused, naming it."""
    name = environ.get("SHARED_PLATFORM", "")
    if not _PLATFORM_RE.match(name):
        raise ConfigError("SHARED_PLATFORM", name, "1-12 lowercase letters and digits, starting "
                                                   "with a letter")
    for variable in VARIABLES:
        if not variable.platform and environ.get(variable.name):
            raise ConfigError(variable.name, environ[variable.name],
                              "the shared stack (SHARED_PLATFORM) does not read it: unset it")
    network = _existing_network(environ)
    if network is None:
        raise ConfigError("VPC_ID", "", "the shared stack is deployed into the platform's "
                                        "network: VPC_ID and the three subnet lists")
    region = _region(environ, "AWS_REGION")
    if region in VPC_ORIGIN_UNAVAILABLE_REGIONS:
        raise ConfigError("AWS_REGION", region, "a Region where CloudFront VPC origins are "
                                                "offered (the shared load balancer is internal)")
    tag_rule = "1-256 characters: letters, digits, spaces and _ . : / = + - @"
    return PlatformSettings(
        name=name, aws_region=region, network=network,
        state_bucket=_matching(environ, "TERRAFORM_STATE_BUCKET", _BUCKET_RE,
                               "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)"),
        state_bucket_region=_region(environ, "TERRAFORM_STATE_BUCKET_REGION"),
        repository=str(_matching(environ, "REPOSITORY", _TAG_VALUE_RE, tag_rule, "unknown")),
        commit_author=str(_matching(environ, "COMMIT_AUTHOR", _TAG_VALUE_RE, tag_rule, "unknown")),
        alarm_email=_matching(environ, "ALARM_EMAIL", _EMAIL_RE, "an email address"),
        db_engine_version=_db_engine_version(environ))
