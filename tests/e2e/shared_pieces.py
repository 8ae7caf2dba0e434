"""The shared pieces in the fleet scenario: the shared stack, and each environment's place in it.

``SharedRun`` is the shared stack ``TapShared<PLATFORM>`` (lib/shared_stack.py) as the harness
drives an environment: its workdir build/e2e/shared/, its state key
``shared/TapShared<PLATFORM>.tfstate`` in the same state bucket, ``make shared-deploy``'s
commands (``main.py`` with ``SHARED_PLATFORM`` and without ``ENVIRONMENT_SUFFIX``, then
tools/terraform_apply.py). The phases on it:

  shared_deploy    synthesized into the platform network (VPC_ID and the subnet lists) and
                   deployed; its outputs file must hold exactly the five ``SHARED_*`` values
                   (lib/outputs.py ``SHARED_OUTPUTS``), which ``given_pieces`` hands to the
                   environments as the variables of the same names
  shared_destroy   destroyed through its own state; nothing tagged or named
                   ``tap-shared-<PLATFORM>`` is left (its keys pending deletion are gone as far
                   as AWS lets them go)

``place(run, pieces, suffix)`` says what an environment owns in the pieces, each looked up on
its own, never through the environment's state: its database and its two roles in the shared
cluster (the RDS Data API as the cluster's master, the way tools/shared_database.py made them),
its cache user (the user itself and its membership of the cache's user group), and its rule
(priority: its pull-request number) and target group on the shared listener.
``check_place(run, pieces, env, present)`` wants all of it there or all of it gone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lib.config import load_settings
from lib.naming import Names
from lib.outputs import SHARED_OUTPUTS
from tests.e2e.harness import GLOBAL_REGION, PhaseFailed, Report, Run
from tests.e2e.leftovers import find_leftovers

PLATFORM = "fleet"  # SHARED_PLATFORM: the stack TapSharedfleet
SHARED_SUFFIX = "shared"  # the shared stack's workdir and state key prefix
# The shared stack's default tag Environment and the part of its names (lib/shared_stack.py,
# lib/naming.py): what its leftovers carry.
SHARED_ENVIRONMENT = f"shared-{PLATFORM}"


class SharedRun(Run):
    """The shared stack, run by the harness as ``make shared-deploy`` runs it."""

    def __init__(self, report: Report) -> None:
        super().__init__(report)
        self.stack = f"TapShared{PLATFORM}"  # its state key: shared/TapSharedfleet.tfstate

    def env(self) -> dict[str, str]:
        """The toolchain's environment for the shared stack: SHARED_PLATFORM, and no
        ENVIRONMENT_SUFFIX (the shared stack refuses an environment's variables; the Makefile's
        shared-synth unsets it too)."""
        env = super().env()
        del env["ENVIRONMENT_SUFFIX"]
        env["SHARED_PLATFORM"] = PLATFORM
        return env


def variable_of(output: str) -> str:
    """The variable an environment is given a shared output in: ``shared_web_acl_arn`` ->
    ``SHARED_WEB_ACL_ARN``."""
    return output.upper()


def shared_deploy(run: SharedRun) -> dict[str, str]:
    """Synthesize and deploy the shared stack; the five SHARED_* settings of its outputs."""
    run.allow_destroy = False
    run.synth()
    run.apply()
    run.check_state_unlocked()
    document = json.loads(run.deploy_outputs_file.read_text(encoding="utf-8"))
    values = document.get(run.stack, {})
    wanted = [spec.name for spec in SHARED_OUTPUTS]
    if sorted(values) != sorted(wanted) or not all(values.values()):
        raise PhaseFailed(f"shared: {run.deploy_outputs_file} holds {values}, expected the "
                          f"five outputs {wanted}, each with a value")
    _, listing = run.terraform("outputs", "state", "list")
    run.report.resources = sum(1 for line in listing.splitlines()
                               if line and not line.startswith("data."))
    return {variable_of(name): str(values[name]) for name in wanted}


def shared_destroy(run: SharedRun) -> None:
    """Destroy the shared stack through its own state; nothing of it may be left."""
    run.allow_destroy = False
    run.apply(destroy=True)
    run.check_state_unlocked()
    left = find_leftovers(run.client, SHARED_ENVIRONMENT, {run.region, GLOBAL_REGION})
    if left:
        raise PhaseFailed("shared-destroy: the shared stack left\n  " + "\n  ".join(left))


# -- an environment's place in the pieces ------------------------------------------------

@dataclass(frozen=True)
class Pieces:
    """The shared pieces as the checks look them up (from the five SHARED_* values)."""

    listener_arn: str
    cluster_arn: str
    cache_arn: str

    @classmethod
    def of(cls, settings: dict[str, str]) -> Pieces:
        return cls(listener_arn=settings["SHARED_LISTENER_ARN"],
                   cluster_arn=settings["SHARED_DB_CLUSTER_ARN"],
                   cache_arn=settings["SHARED_CACHE_ARN"])

    @property
    def cache_name(self) -> str:
        return self.cache_arn.rsplit(":", 1)[-1]


def names_of(env: Run) -> Names:
    """An environment's physical names (lib/naming.py), from its own settings (its target
    group's name has the manifest's port)."""
    return Names(load_settings({**env.settings_env, "ENVIRONMENT_SUFFIX": env.suffix,
                                "AWS_REGION": env.region}))


def master_secret(run: Run, pieces: Pieces) -> str:
    """The shared cluster's RDS-managed master secret (what tools/shared_database.py uses)."""
    (cluster,) = run.client("rds").describe_db_clusters(
        DBClusterIdentifier=pieces.cluster_arn)["DBClusters"]
    return str(cluster["MasterUserSecret"]["SecretArn"])


def data_api(run: Run, pieces: Pieces, sql: str, database: str = "postgres",
             **parameters: str) -> list[list[Any]]:
    """One statement through the RDS Data API as the shared cluster's master user; its rows
    as plain values."""
    answer = run.client("rds-data").execute_statement(
        resourceArn=pieces.cluster_arn, secretArn=master_secret(run, pieces), database=database,
        sql=sql, parameters=[{"name": name, "value": {"stringValue": value}}
                             for name, value in parameters.items()])
    return [[next(iter(field.values())) for field in row] for row in answer.get("records", [])]


def place(run: Run, pieces: Pieces, env: Run) -> dict[str, Any]:
    """What the environment ``env`` owns in the shared pieces, each found on its own (see the
    module docstring): {what: found}."""
    names = names_of(env)
    databases = data_api(run, pieces, "SELECT datname FROM pg_database WHERE datname = :name",
                         name=names.shared_database)
    roles = data_api(run, pieces, "SELECT rolname FROM pg_roles WHERE rolname IN (:owner, :app)"
                     " ORDER BY rolname", owner=names.shared_owner_role,
                     app=names.shared_app_role)
    elasticache = run.client("elasticache")
    (cache,) = elasticache.describe_serverless_caches(
        ServerlessCacheName=pieces.cache_name)["ServerlessCaches"]
    (group,) = elasticache.describe_user_groups(
        UserGroupId=cache["UserGroupId"])["UserGroups"]
    users = [user["UserId"] for user in elasticache.describe_users()["Users"]
             if user["Status"] != "deleting"]
    elbv2 = run.client("elbv2")
    rules = elbv2.describe_rules(ListenerArn=pieces.listener_arn)["Rules"]
    groups = [group["TargetGroupName"] for group in elbv2.describe_target_groups()[
        "TargetGroups"]]
    number = env.suffix.removeprefix("pr")
    return {
        "database": [row[0] for row in databases],
        "roles": [row[0] for row in roles],
        "cache user": names.cache_user if names.cache_user in users else None,
        "in the user group": names.cache_user in group["UserIds"],
        "listener rule": next((rule["RuleArn"].rsplit("/", 1)[-1] for rule in rules
                               if rule["Priority"] == number), None),
        "target group": names.target_group if names.target_group in groups else None,
    }


def check_place(run: Run, pieces: Pieces, env: Run, present: bool) -> dict[str, Any]:
    """All of ``env``'s place in the pieces there (``present``) or all of it gone;
    PhaseFailed naming what is not; returns what was found."""
    found = place(run, pieces, env)
    names = names_of(env)
    expected: dict[str, Any] = {
        "database": [names.shared_database] if present else [],
        "roles": sorted([names.shared_app_role, names.shared_owner_role]) if present else [],
        "cache user": names.cache_user if present else None,
        "in the user group": present,
        "target group": names.target_group if present else None,
    }
    wrong = {what: found[what] for what, value in expected.items() if found[what] != value}
    if (found["listener rule"] is None) == present:
        wrong["listener rule"] = found["listener rule"]
    if wrong:
        raise PhaseFailed(f"{run.phase}: {env.suffix}'s place in the shared pieces should be "
                          f"{'there' if present else 'gone'}; found {wrong}")
    return found
