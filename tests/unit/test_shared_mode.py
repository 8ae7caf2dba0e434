"""An environment on the five shared pieces (pr4892-shared, lib/shared_tenancy.py), on its
synthesized JSON: what it makes of its own, what it reads, and what it adds to the pieces."""
from __future__ import annotations

import json
from typing import Any

import pytest

from lib.config import load_settings
from lib.shared_tenancy import ACCESS_STRING
from tests.unit.synth import Synth, synthesize
from tests.unit.variants import SHARED, SHARED_PIECES

ACCOUNT = "123456789012"
VPC_ORIGIN_ID = "vo_0a1b2c3d4e5f60718293a4"
# What an environment on the shared pieces has none of: they are the shared stack's.
NOT_ITS_OWN = ("aws_wafv2_web_acl", "aws_wafv2_web_acl_logging_configuration", "aws_lb",
               "aws_lb_listener", "aws_cloudfront_vpc_origin", "aws_rds_cluster",
               "aws_rds_cluster_instance", "aws_rds_cluster_parameter_group",
               "aws_db_subnet_group", "aws_elasticache_serverless_cache",
               "aws_elasticache_user_group", "aws_cloudwatch_dashboard")


def data_ref(stack: Synth, dtype: str, path: str, attribute: str) -> str:
    return stack.ref(dtype, path, attribute, kind="data")


def read(stack: Synth, dtype: str, path: str) -> dict[str, Any]:
    return stack.data(dtype)[stack.logical_id(dtype, path, kind="data")]


def container(stack: Synth, path: str = "app/task") -> dict[str, Any]:
    (found,) = json.loads(stack.at("aws_ecs_task_definition", path)["container_definitions"])
    return found


def test_it_makes_no_piece_of_its_own(on_shared: Synth) -> None:
    assert [rtype for rtype in NOT_ITS_OWN if on_shared.resources(rtype)] == []
    # Of the security groups, only the tasks'; of the keys, the one per region.
    assert [on_shared.paths[lid] for lid in on_shared.resources("aws_security_group")] == [
        "network/task-sg"]
    assert sorted(on_shared.paths[lid] for lid in on_shared.resources("aws_kms_key")) == [
        "global-key/key", "key/key"]
    assert on_shared.json["provider"]["aws"][0]["default_tags"][0]["tags"]["Tenancy"] == "shared"


def test_it_reads_each_piece_and_checks_it(on_shared: Synth) -> None:
    """A data source per piece: a missing one fails the plan, naming it."""
    listener = read(on_shared, "aws_lb_listener", "shared/listener")
    assert listener == {"arn": SHARED_PIECES["SHARED_LISTENER_ARN"]}
    balancer = read(on_shared, "aws_lb", "shared/load-balancer")
    assert balancer["arn"] == data_ref(on_shared, "aws_lb_listener", "shared/listener",
                                       "load_balancer_arn")
    (in_vpc,) = balancer["lifecycle"]["postcondition"]
    assert in_vpc["condition"] == '${self.vpc_id == "vpc-0a1b2c3d4e5f60718"}'
    web_acl = read(on_shared, "aws_wafv2_web_acl", "shared/web-acl")
    assert (web_acl["name"], web_acl["scope"], web_acl["provider"]) == (
        "tap-shared-main-edge", "CLOUDFRONT", "aws.global")
    assert web_acl["lifecycle"]["postcondition"][0]["condition"] == \
        f'${{self.arn == "{SHARED_PIECES["SHARED_WEB_ACL_ARN"]}"}}'
    cluster = read(on_shared, "aws_rds_cluster", "shared/cluster")
    assert cluster["cluster_identifier"] == "tap-shared-main-aurora"
    assert [c["condition"] for c in cluster["lifecycle"]["postcondition"]] == [
        '${self.engine == "aurora-postgresql"}', "${self.iam_database_authentication_enabled}",
        "${length(self.master_user_secret) > 0}"]
    cache = read(on_shared, "aws_elasticache_serverless_cache", "shared/cache")
    assert cache["name"] == "tap-shared-main-cache"
    assert [c["condition"] for c in cache["lifecycle"]["postcondition"]] == [
        '${self.engine == "valkey"}', '${self.user_group_id != ""}']
    for found in (cluster, cache):
        assert all(c["error_message"].startswith("SHARED_") for c in
                   found["lifecycle"]["postcondition"])


def test_the_distribution_uses_the_given_web_acl_and_vpc_origin(on_shared: Synth) -> None:
    distribution = on_shared.at("aws_cloudfront_distribution", "edge/distribution")
    assert distribution["web_acl_id"] == data_ref(on_shared, "aws_wafv2_web_acl",
                                                  "shared/web-acl", "arn")
    (origin,) = distribution["origin"]
    assert origin["domain_name"] == data_ref(on_shared, "aws_lb", "shared/load-balancer",
                                             "dns_name")
    assert origin["vpc_origin_config"] == {"vpc_origin_id": VPC_ORIGIN_ID,
                                           "origin_read_timeout": 30,
                                           "origin_keepalive_timeout": 30}
    assert "custom_origin_config" not in origin
    assert origin["custom_header"] == [{"name": "X-Origin-Verify", "value": on_shared.ref(
        "aws_secretsmanager_secret_version", "shared/origin-verify-version", "secret_string")}]
    # Its standard logs stay in a bucket of its own, with no WAF delivery statement.
    sids = [s["Sid"] for s in on_shared.policy("aws_s3_bucket_policy",
                                               "edge/log-bucket-policy")["Statement"]]
    assert sids == ["DenyInsecureTransport"]
    assert on_shared.outputs["waf_web_acl_arn"]["value"] == distribution["web_acl_id"]
    assert on_shared.outputs["vpc_origin_id"]["value"] == VPC_ORIGIN_ID


def test_one_rule_on_the_shared_listener_at_the_pull_request_number(on_shared: Synth) -> None:
    (rule,) = on_shared.resources("aws_lb_listener_rule").values()
    group = on_shared.ref("aws_lb_target_group", "shared/web", "arn")
    assert rule == {
        "listener_arn": data_ref(on_shared, "aws_lb_listener", "shared/listener", "arn"),
        "priority": 4892, "lifecycle": {"create_before_destroy": True},
        "condition": [{"http_header": {"http_header_name": "X-Origin-Verify", "values": [
            on_shared.ref("aws_secretsmanager_secret_version", "shared/origin-verify-version",
                          "secret_string")]}}],
        "action": [{"type": "forward", "target_group_arn": group}]}
    target_group = on_shared.at("aws_lb_target_group", "shared/web")
    assert (target_group["name"], target_group["target_type"], target_group["vpc_id"]) == (
        "tap-pr4892-tg80", "ip", on_shared.ref("aws_vpc", "network/vpc", kind="data"))
    assert on_shared.at("aws_ecs_service", "app/service")["load_balancer"][0][
        "target_group_arn"] == group


def test_the_tasks_admit_the_shared_load_balancer_and_reach_the_shared_data(
        on_shared: Synth) -> None:
    tasks = on_shared.ref("aws_security_group", "network/task-sg")
    rules = {on_shared.paths[lid]: rule for rtype in ("aws_vpc_security_group_ingress_rule",
                                                      "aws_vpc_security_group_egress_rule")
             for lid, rule in on_shared.resources(rtype).items()}
    assert sorted(rules) == ["firewall/tasks-from-alb", "firewall/tasks-https-out",
                             "firewall/tasks-to-cache", "firewall/tasks-to-db"]
    expected = {
        "firewall/tasks-from-alb": ("aws_lb", "shared/load-balancer", "security_groups", 80, 80),
        "firewall/tasks-to-db": ("aws_rds_cluster", "shared/cluster", "vpc_security_group_ids",
                                 5432, 5432),
        "firewall/tasks-to-cache": ("aws_elasticache_serverless_cache", "shared/cache",
                                    "security_group_ids", 6379, 6380)}
    for path, (dtype, source, attribute, low, high) in expected.items():
        rule = rules[path]
        groups = data_ref(on_shared, dtype, source, attribute)[2:-1]
        assert rule["for_each"] in (f"${{toset({groups})}}", f"${{toset(tolist({groups}))}}")
        assert (rule["security_group_id"], rule["referenced_security_group_id"],
                rule["from_port"], rule["to_port"]) == (tasks, "${each.value}", low, high)
    assert rules["firewall/tasks-https-out"]["cidr_ipv4"] == "0.0.0.0/0"


def test_the_service_connects_as_its_own_user_with_its_own_names(on_shared: Synth) -> None:
    found = container(on_shared)
    environment = {item["name"]: item["value"] for item in found["environment"]}
    assert environment == {
        "DB_HOST": data_ref(on_shared, "aws_rds_cluster", "shared/cluster", "endpoint"),
        "DB_PORT": "5432", "DB_NAME": "tap_pr4892", "DB_USERNAME": "tap_pr4892_app",
        "DB_AUTH": "iam",
        "REDIS_HOST": data_ref(on_shared, "aws_elasticache_serverless_cache", "shared/cache",
                               "endpoint.address"),
        "REDIS_PORT": data_ref(on_shared, "aws_elasticache_serverless_cache", "shared/cache",
                               "endpoint.port"),
        "REDIS_TLS": "true", "REDIS_USERNAME": "tap-pr4892", "REDIS_KEY_PREFIX": "tap:pr4892:",
        "AWS_REGION": "us-east-1", "PORT": "80"}
    secret = on_shared.ref("aws_secretsmanager_secret", "shared/cache-user-secret", "arn")
    assert found["secrets"] == [{"name": "REDIS_PASSWORD", "valueFrom": f"{secret}:password::"}]
    (connect,) = on_shared.policy("aws_iam_role_policy", "app/task-app-policy")["Statement"]
    resource_id = data_ref(on_shared, "aws_rds_cluster", "shared/cluster", "cluster_resource_id")
    assert connect == {"Sid": "ConnectAsApplicationUser", "Effect": "Allow",
                       "Action": ["rds-db:connect"],
                       "Resource": [f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:{resource_id}/"
                                    "tap_pr4892_app"]}
    statements = {s["Sid"]: s for s in on_shared.policy(
        "aws_iam_role_policy", "app/execution-policy")["Statement"]}
    assert statements["ReadTaskSecrets"]["Resource"] == [secret]
    assert statements["DecryptTaskSecrets"]["Resource"] == [
        on_shared.ref("aws_kms_key", "key/key", "arn")]
    # No master secret anywhere in the environment.
    assert "secret:rds" not in json.dumps(on_shared.json)
    assert on_shared.outputs["db_secret_arn"]["value"] == ""
    assert on_shared.outputs["alb_log_bucket"]["value"] == ""
    assert on_shared.outputs["redis_secret_arn"]["value"] == secret


def test_the_deploy_makes_and_drops_its_database_through_the_data_api(
        on_shared: Synth) -> None:
    database = on_shared.at("terraform_data", "shared/database")
    cluster = "data.aws_rds_cluster." + on_shared.logical_id("aws_rds_cluster", "shared/cluster",
                                                             kind="data")
    assert database["input"] == {
        "region": "us-east-1", "cluster_arn": f"${{{cluster}.arn}}",
        "secret_arn": f"${{{cluster}.master_user_secret[0].secret_arn}}",
        "database": "tap_pr4892", "owner": "tap_pr4892_owner", "app": "tap_pr4892_app"}
    assert database["triggers_replace"] == {
        "cluster_arn": SHARED_PIECES["SHARED_DB_CLUSTER_ARN"], "database": "tap_pr4892"}
    create, drop = (step["local-exec"] for step in database["provisioner"])
    environment = {f"TAP_{key.upper()}": f"${{self.input.{key}}}"
                   for key in ("region", "cluster_arn", "secret_arn", "database", "owner", "app")}
    for step, action in ((create, "create"), (drop, "drop")):
        runner, verb = step["command"].removeprefix('"$${TAP_PYTHON:-python3}" ').rsplit(" ", 1)
        assert runner.startswith('"assets/') and runner.endswith('/shared_database.py"')
        assert verb == action
        assert step["environment"] == environment
    assert "when" not in create and drop["when"] == "destroy"
    # The tasks start once their database and their cache user exist.
    service = on_shared.at("aws_ecs_service", "app/service")
    membership = on_shared.logical_id("aws_elasticache_user_group_association",
                                      "shared/cache-user-group")
    assert {f"terraform_data.{on_shared.logical_id('terraform_data', 'shared/database')}",
            f"aws_elasticache_user_group_association.{membership}"} <= set(service["depends_on"])


def test_its_cache_user_reaches_its_own_keys_only(on_shared: Synth) -> None:
    user = on_shared.at("aws_elasticache_user", "shared/cache-user")
    version = on_shared.ref("aws_secretsmanager_secret_version", "shared/cache-user-secret-value",
                            "secret_string")
    assert user == {
        "user_id": "tap-pr4892", "user_name": "tap-pr4892", "engine": "valkey",
        "access_string": "on ~tap:pr4892:* -@all +@read +@write +@keyspace +@connection "
                         "-@dangerous -scan -randomkey -dbsize +cluster|slots +cluster|shards",
        "authentication_mode": {"type": "password", "passwords": [
            f"${{jsondecode({version[2:-1]}).password}}"]}}
    assert user["access_string"] == ACCESS_STRING.format(prefix="tap:pr4892:")
    membership = on_shared.at("aws_elasticache_user_group_association", "shared/cache-user-group")
    assert membership == {
        "user_group_id": data_ref(on_shared, "aws_elasticache_serverless_cache", "shared/cache",
                                  "user_group_id"),
        "user_id": on_shared.ref("aws_elasticache_user", "shared/cache-user", "user_id")}
    secret = on_shared.at("aws_secretsmanager_secret", "shared/cache-user-secret")
    assert (secret["name_prefix"], secret["kms_key_id"], secret["recovery_window_in_days"]) == (
        "tap/pr4892/cache-user-", on_shared.ref("aws_kms_key", "key/key", "arn"), 0)
    value = on_shared.at("aws_secretsmanager_secret_version", "shared/cache-user-secret-value")
    password = data_ref(on_shared, "aws_secretsmanager_random_password", "shared/cache-password",
                        "random_password")
    assert value["secret_string"] == (
        f'${{jsonencode({{"username" = "tap-pr4892", "password" = {password[2:-1]}}})}}')
    assert value["lifecycle"] == {"ignore_changes": ["secret_string"]}
    drawn = read(on_shared, "aws_secretsmanager_random_password", "shared/cache-password")
    assert (drawn["password_length"], drawn["exclude_punctuation"]) == (32, True)


def test_its_alarms_are_the_tiers_it_owns(on_shared: Synth) -> None:
    alarms = {alarm["alarm_name"].removeprefix("tap-pr4892-"): alarm
              for alarm in on_shared.resources("aws_cloudwatch_metric_alarm").values()}
    assert sorted(alarms) == ["ecs-cpu", "ecs-memory", "edge-5xx-rate", "running-tasks",
                              "target-5xx", "target-p90-latency", "unhealthy-hosts"]
    assert alarms["target-5xx"]["dimensions"] == {
        "LoadBalancer": data_ref(on_shared, "aws_lb", "shared/load-balancer", "arn_suffix"),
        "TargetGroup": on_shared.ref("aws_lb_target_group", "shared/web", "arn_suffix")}


def test_its_release_connects_as_the_owner_through_iam() -> None:
    stack = synthesize({**SHARED, "APP_MANIFEST": "app/app.toml"})
    found = container(stack, "release/task")
    environment = {item["name"]: item["value"] for item in found["environment"]}
    assert {key: environment[key] for key in ("DB_OWNER_ROLE", "DB_ADMIN_USERNAME",
                                              "DB_ADMIN_AUTH", "DB_USERNAME")} == {
        "DB_OWNER_ROLE": "tap_pr4892_owner", "DB_ADMIN_USERNAME": "tap_pr4892_owner",
        "DB_ADMIN_AUTH": "iam", "DB_USERNAME": "tap_pr4892_app"}
    assert "DB_ADMIN_PASSWORD" not in json.dumps(found)
    task = stack.at("aws_ecs_task_definition", "release/task")
    assert task["task_role_arn"] == stack.ref("aws_iam_role", "release/task-role", "arn")
    assert stack.at("aws_iam_role", "release/task-role")["name"] == "tap-pr4892-release-task"
    (connect,) = stack.policy("aws_iam_role_policy", "release/task-policy")["Statement"]
    resource_id = data_ref(stack, "aws_rds_cluster", "shared/cluster", "cluster_resource_id")
    assert connect["Action"] == ["rds-db:connect"]
    assert connect["Resource"] == [f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:{resource_id}/"
                                   "tap_pr4892_owner"]
    # The service's task role connects as the application's user, never as the owner.
    (service,) = stack.policy("aws_iam_role_policy", "app/task-app-policy")["Statement"]
    assert service["Resource"][0].endswith("/tap_pr4892_app")
    # The release logs in as the owner: it runs once the database and its roles are made.
    gate = stack.at("terraform_data", "release/gate")
    membership = stack.logical_id("aws_elasticache_user_group_association",
                                  "shared/cache-user-group")
    assert gate["depends_on"] == [
        f"terraform_data.{stack.logical_id('terraform_data', 'shared/database')}",
        f"aws_elasticache_user_group_association.{membership}"]


@pytest.mark.parametrize("suffix,priority", [("pr1", 1), ("pr50000", 50000)])
def test_the_rule_priority_is_the_pull_request_number(suffix: str, priority: int) -> None:
    settings = load_settings({**SHARED, "ENVIRONMENT_SUFFIX": suffix})
    assert settings.shared is not None and settings.shared.rule_priority == priority


def test_a_release_has_the_master_secret_or_the_owner_exactly(on_shared: Synth) -> None:
    """ReleaseProps refuses both, neither, or an owner without its connect statement."""
    from lib.release import ReleaseProps  # pylint: disable=import-outside-toplevel
    assert on_shared.stack is not None
    stack = on_shared.stack
    fields: dict[str, Any] = {
        "names": stack.names, "account_id": "123456789012", "region": "us-east-1",
        "container": stack.service_container, "command": None, "timeout_seconds": 60,
        "data_key_arn": "arn:key", "app_secrets": {}, "cluster_arn": "arn:cluster",
        "subnet_ids": ("subnet-1",), "security_group_id": "sg-1", "assign_public_ip": False,
        "log_group_name": "logs", "log_group_arn": "arn:logs", "task_cpu": 256,
        "task_memory": 512, "cpu_architecture": "X86_64",
        "service_task_definition_arn": "arn:task"}
    owner = {"owner": "tap_pr4892_owner", "owner_connect_statement": {"Sid": "x"}}
    assert ReleaseProps(**fields, admin_secret_arn=None, **owner).owner == "tap_pr4892_owner"
    assert ReleaseProps(**fields, admin_secret_arn="arn:secret").owner is None
    for wrong in ({"admin_secret_arn": None}, {"admin_secret_arn": "arn:secret", **owner},
                  {"admin_secret_arn": None, "owner": "tap_pr4892_owner"}):
        with pytest.raises(ValueError, match="the master secret, or the owner with its connect"):
            ReleaseProps(**fields, **wrong)
