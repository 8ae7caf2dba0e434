"""The shared mode's settings: five pieces a pull-request environment is given instead of its own.

``shared_pieces(environ, ...)`` reads the five SHARED_* ARNs (all or none) for ``lib.config``'s
``load_settings`` and returns ``SharedPieces`` (or None), or raises ``ConfigError`` with one line
naming the variable: a malformed ARN, another service, another Region or another account
(lib/arns.py), some but not all of them, outside a given network (VPC_ID), for a profile other
than ephemeral, beside a setting the pieces decide, or a pull-request number that is no listener
rule priority. The pieces are what the platform team deploys once per account
(lib/shared_stack.py, docs/decisions/shared-pr-environments.md). Nothing here imports jsii.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from lib.arns import Arn, read_arn
from lib.errors import ConfigError
from lib.profiles import EPHEMERAL, Profile
from lib.regions import VPC_ORIGIN_UNAVAILABLE_REGIONS

SHARED_VARIABLES = ("SHARED_WEB_ACL_ARN", "SHARED_LISTENER_ARN", "SHARED_VPC_ORIGIN_ARN",
                    "SHARED_DB_CLUSTER_ARN", "SHARED_CACHE_ARN")
# ALB rule priorities: "Valid Range: Minimum value of 1. Maximum value of 50000"
# (Elastic Load Balancing API reference, RulePriorityPair).
MAX_RULE_PRIORITY = 50000
# What the shared pieces decide: refused beside them.
_DECIDED_BY_SHARED = {
    "CERTIFICATE_ARN": "the shared load balancer's listener decides the origin protocol",
    "CACHE_ENGINE": "the shared cache's engine is the shared stack's",
    "DB_ENGINE_VERSION": "the shared cluster's engine version is the shared stack's",
    "DB_SNAPSHOT_IDENTIFIER": "the database is made in the shared cluster, not restored",
}


@dataclass(frozen=True)
class SharedPieces:
    """The five pieces a pull-request environment uses instead of its own (lib/arns.py)."""

    web_acl: Arn
    listener: Arn
    vpc_origin: Arn
    db_cluster: Arn
    cache: Arn
    # The environment's listener rule's priority: its pull-request number, so that two
    # environments on one listener never ask for the same (PriorityInUse).
    rule_priority: int

    @property
    def web_acl_name(self) -> str:
        return self.web_acl.parts["name"]

    @property
    def vpc_origin_id(self) -> str:
        return self.vpc_origin.parts["id"]

    @property
    def db_cluster_identifier(self) -> str:
        return self.db_cluster.parts["id"]

    @property
    def cache_name(self) -> str:
        return self.cache.parts["name"]


def shared_pieces(environ: Mapping[str, str], suffix: str, region: str, profile: Profile,
                  in_given_network: bool) -> SharedPieces | None:
    """The five SHARED_* ARNs (all or none), for an ephemeral environment in a given network."""
    given = {variable: environ[variable] for variable in SHARED_VARIABLES
             if environ.get(variable)}
    if not given:
        return None
    first, value = next(iter(given.items()))
    missing = [variable for variable in SHARED_VARIABLES if variable not in given]
    if missing:
        raise ConfigError(missing[0], "", f"the shared pieces come together: "
                          f"{', '.join(SHARED_VARIABLES)}, all five or none (given: "
                          f"{', '.join(given)})")
    if profile.name != EPHEMERAL:
        raise ConfigError(first, value, f"only ephemeral (pr<n>) environments use shared pieces; "
                                        f"ENVIRONMENT_SUFFIX={suffix} is {profile.name}")
    if not in_given_network:
        raise ConfigError(first, value, "shared pieces serve environments in the platform's "
                                        "network: set VPC_ID and the three subnet lists too")
    if region in VPC_ORIGIN_UNAVAILABLE_REGIONS:
        raise ConfigError(first, value, f"CloudFront VPC origins are not offered in AWS_REGION "
                                        f"{region}, so neither is the shared load balancer")
    for variable, reason in _DECIDED_BY_SHARED.items():
        if environ.get(variable):
            raise ConfigError(variable, environ[variable], f"{reason} (unset it beside the "
                                                           "shared pieces)")
    arns: dict[str, Arn] = {}
    for variable, text in given.items():
        read = read_arn(variable, text, region)
        if isinstance(read, str):
            raise ConfigError(variable, text, read)
        arns[variable] = read
    account = arns[first].account
    for variable, arn in arns.items():
        if arn.account != account:
            raise ConfigError(variable, arn.value, f"a piece of the account of {first} "
                                                   f"({account}): the shared pieces are one "
                                                   "platform's")
    number = suffix.removeprefix("pr")
    if number.startswith("0") or not 1 <= int(number) <= MAX_RULE_PRIORITY:
        raise ConfigError("ENVIRONMENT_SUFFIX", suffix,
                          f"beside shared pieces the listener rule's priority is the pull-request "
                          f"number: pr1 to pr{MAX_RULE_PRIORITY} without leading zeros (ALB rule "
                          "priorities)")
    return SharedPieces(*(arns[variable] for variable in SHARED_VARIABLES),
                        rule_priority=int(number))
