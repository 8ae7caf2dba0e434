"""Data tier on the synthesized JSON of dev, pr4892 and prod (and the variant: Redis OSS,
Aurora PostgreSQL 17)."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import cdktf

from lib.config import ConfigError, load_settings
from lib.data_tier import DataTier, check_database
from lib.tap_stack import database_props
from tests.unit.synth import Synth, synthesize

SUFFIXES = ("pr4892", "dev", "prod")
EPHEMERAL_SETTINGS = load_settings({"ENVIRONMENT_SUFFIX": "pr4892"})
CLUSTER = "aws_rds_cluster"
INSTANCE = "aws_rds_cluster_instance"
CACHE = "aws_elasticache_serverless_cache"
SECRET = "aws_secretsmanager_secret"


def exposed(stack: Synth) -> dict[str, Any]:
    """The data tier's exports and the container the stack builds from them, resolved as
    Terraform sees them."""
    assert stack.stack is not None
    data = stack.stack.data_exports
    container = stack.stack.service_container
    # What TerraformStack.resolve does in TypeScript (not exposed to Python): the resolver
    # synth applies to every output value.
    return cdktf.Tokenization.resolve({
        "container_environment": dict(container.environment),
        "container_secrets": dict(container.secrets),
        "secret_arns": list(container.readable_secret_arns),
        "key_arns": list(container.decrypt_key_arns),
        "db_port": data.db_port, "db_name": data.db_name, "key_arn": data.key_arn,
        "cache_port": data.cache_port, "cache_reader_endpoint": data.cache_reader_endpoint,
    }, scope=stack.stack, resolver=cdktf.DefaultTokenResolver(cdktf.StringConcat()))


def cluster_ref(stack: Synth, attribute: str) -> str:
    return stack.ref(CLUSTER, "data/aurora", attribute)


def cache_ref(stack: Synth, attribute: str) -> str:
    return stack.ref(CACHE, "data/cache", attribute)


def data_key(stack: Synth) -> str:
    return stack.key_ref("data")


# -- key ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix,window", [("dev", 14), ("prod", 30)])
def test_data_key_rotates_with_alias_and_window_per_profile(stacks: dict[str, Synth], suffix: str,
                                                           window: int) -> None:
    stack = stacks[suffix]
    key = stack.at("aws_kms_key", "data/key/key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == window
    alias = stack.at("aws_kms_alias", "data/key/alias")
    assert alias["name"] == f"alias/tap-{suffix}-data"
    assert alias["target_key_id"] == stack.ref("aws_kms_key", "data/key/key", "key_id")


def test_data_key_policy_admits_only_the_data_services_of_this_account(dev: Synth) -> None:
    account = dev.ref("aws_caller_identity", "caller", "account_id", kind="data")
    admin, services = dev.policy("aws_kms_key", "data/key/key")["Statement"]
    assert admin["Sid"] == "AccountAdministration"
    assert services == {
        "Sid": "DataServices", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                   "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {
            "kms:CallerAccount": account,
            "kms:ViaService": ["rds.us-east-1.amazonaws.com",
                               "secretsmanager.us-east-1.amazonaws.com",
                               "elasticache.us-east-1.amazonaws.com"]}},
    }


# -- Aurora ------------------------------------------------------------------------------

def test_aurora_cluster_engine_encryption_and_credentials(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        cluster = stack.at(CLUSTER, "data/aurora")
        assert cluster["cluster_identifier"] == f"tap-{suffix}-aurora"
        assert (cluster["engine"], cluster["engine_mode"], cluster["engine_version"]) == \
            ("aurora-postgresql", "provisioned", "16.6")
        assert (cluster["database_name"], cluster["port"]) == ("tap", 5432)
        assert cluster["storage_encrypted"] is True
        assert cluster["kms_key_id"] == data_key(stack)
        assert cluster["manage_master_user_password"] is True
        assert cluster["master_user_secret_kms_key_id"] == data_key(stack)
        assert cluster["master_username"] == "tap_admin"
        assert "master_password" not in cluster and "master_password_wo" not in cluster
        assert cluster["iam_database_authentication_enabled"] is True
        assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
        assert cluster["copy_tags_to_snapshot"] is True
        assert cluster["preferred_backup_window"] == "03:00-04:00"
        assert cluster["preferred_maintenance_window"] == "sun:04:30-sun:05:30"
        assert cluster["db_subnet_group_name"] == stack.ref("aws_db_subnet_group", "data/db-subnets",
                                                            "name")
        assert cluster["vpc_security_group_ids"] == [stack.ref("aws_security_group", "data/db-sg")]
        assert cluster["db_cluster_parameter_group_name"] == stack.ref(
            "aws_rds_cluster_parameter_group", "data/db-params", "name")
        assert cluster["depends_on"] == [
            f"aws_cloudwatch_log_group.{stack.logical_id('aws_cloudwatch_log_group', 'data/db-logs')}"]


def test_no_database_password_anywhere_in_the_synthesized_json(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        assert "master_password" not in json.dumps(stack.json)
        data_blocks = [(rtype, stack.paths[lid])
                       for kind in ("resource", "data")
                       for rtype, blocks in stack.json.get(kind, {}).items()
                       for lid in blocks if stack.paths[lid].startswith("data/")]
        assert not [block for block in data_blocks if "password" in block[0]]
        # The only secret the data tier writes a value into is the cache's connection JSON.
        assert [path for rtype, path in data_blocks
                if rtype == "aws_secretsmanager_secret_version"] == ["data/cache-secret-value"]


@pytest.mark.parametrize("suffix,scaling", [
    ("pr4892", {"min_capacity": 0, "max_capacity": 2, "seconds_until_auto_pause": 600}),
    ("dev", {"min_capacity": 0.5, "max_capacity": 4}),
    ("prod", {"min_capacity": 1, "max_capacity": 16}),
])
def test_serverless_scaling_and_auto_pause_only_in_ephemeral(stacks: dict[str, Synth], suffix: str,
                                                             scaling: dict[str, Any]) -> None:
    assert stacks[suffix].at(CLUSTER, "data/aurora")["serverlessv2_scaling_configuration"] == scaling


@pytest.mark.parametrize("suffix,retention,protected,final", [
    ("pr4892", 1, False, None),
    ("dev", 7, False, "tap-dev-aurora-final-"),
    ("prod", 30, True, "tap-prod-aurora-final-"),
])
def test_backups_deletion_protection_and_final_snapshot_per_profile(
        stacks: dict[str, Synth], suffix: str, retention: int, protected: bool,
        final: str | None) -> None:
    cluster = stacks[suffix].at(CLUSTER, "data/aurora")
    assert cluster["backup_retention_period"] == retention
    assert cluster["deletion_protection"] is protected
    assert cluster["skip_final_snapshot"] is (final is None)
    if final is None:
        assert "final_snapshot_identifier" not in cluster
    else:  # unique per deployment: completed with the first 8 characters of the data key's id
        key_id = stacks[suffix].ref("aws_kms_key", "data/key/key", "key_id")
        assert cluster["final_snapshot_identifier"] == \
            f"{final}${{substr({key_id[2:-1]}, 0, 8)}}"


def test_subnet_group_uses_the_isolated_subnets(dev: Synth) -> None:
    group = dev.at("aws_db_subnet_group", "data/db-subnets")
    assert group["name"] == "tap-dev-aurora"
    assert group["subnet_ids"] == [dev.ref("aws_subnet", f"network/isolated-{i}") for i in range(3)]


def test_parameter_group_forces_tls_and_logs_for_operators(dev: Synth, variant: Synth) -> None:
    group = dev.at("aws_rds_cluster_parameter_group", "data/db-params")
    assert group["name"] == "tap-dev-aurora-pg16"
    assert group["family"] == "aurora-postgresql16"
    # a major upgrade makes the new family's group first, then switches the cluster to it
    assert group["lifecycle"] == {"create_before_destroy": True}
    assert dev.at(CLUSTER, "data/aurora")["allow_major_version_upgrade"] is True
    assert {p["name"]: p["value"] for p in group["parameter"]} == {
        "rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1",
        "log_min_duration_statement": "1000", "log_statement": "ddl", "log_lock_waits": "1"}
    params = variant.at("aws_rds_cluster_parameter_group", "data/db-params")
    assert (params["family"], params["name"]) == ("aurora-postgresql17", "tap-qa-aurora-pg17")
    assert variant.at(CLUSTER, "data/aurora")["engine_version"] == "17.4"


@pytest.mark.parametrize("suffix,days", [("pr4892", 7), ("dev", 30), ("prod", 365)])
def test_exported_logs_go_to_an_encrypted_group_with_retention(stacks: dict[str, Synth], suffix: str,
                                                               days: int) -> None:
    stack = stacks[suffix]
    group = stack.at("aws_cloudwatch_log_group", "data/db-logs")
    assert group["name"] == f"/aws/rds/cluster/tap-{suffix}-aurora/postgresql"
    assert group["retention_in_days"] == days
    assert group["kms_key_id"] == stack.key_ref("logs")


@pytest.mark.parametrize("suffix,count,insights,monitoring", [
    ("pr4892", 1, False, 0), ("dev", 1, True, 0), ("prod", 2, True, 30)])
def test_instances_per_profile(stacks: dict[str, Synth], suffix: str, count: int, insights: bool,
                               monitoring: int) -> None:
    stack = stacks[suffix]
    instances = stack.resources(INSTANCE)
    assert len(instances) == count
    zones = stack.ref("aws_availability_zones", "network/zones", "names", kind="data")[2:-1]
    role = (stack.ref("aws_iam_role", "data/monitoring-role", "arn") if monitoring else None)
    for index in range(count):
        instance = stack.at(INSTANCE, f"data/aurora-{index}")
        assert instance["identifier"] == f"tap-{suffix}-aurora-{index}"
        assert instance["instance_class"] == "db.serverless"
        assert instance["cluster_identifier"] == cluster_ref(stack, "id")
        assert instance["engine"] == cluster_ref(stack, "engine")
        assert instance["engine_version"] == cluster_ref(stack, "engine_version")
        assert instance["availability_zone"] == f"${{element({zones}, {index})}}"
        assert instance["promotion_tier"] == min(index, 1)
        assert instance["publicly_accessible"] is False
        assert instance["auto_minor_version_upgrade"] is False
        assert instance["performance_insights_enabled"] is insights
        assert instance.get("performance_insights_kms_key_id") == (
            data_key(stack) if insights else None)
        assert instance.get("performance_insights_retention_period") == (7 if insights else None)
        assert instance["monitoring_interval"] == monitoring
        assert instance.get("monitoring_role_arn") == role


def test_production_spreads_writer_and_reader_over_two_azs(prod: Synth) -> None:
    zones = {prod.at(INSTANCE, f"data/aurora-{i}")["availability_zone"] for i in range(2)}
    assert len(zones) == 2


def test_enhanced_monitoring_role_only_in_production(stacks: dict[str, Synth]) -> None:
    prod = stacks["prod"]
    account = prod.ref("aws_caller_identity", "caller", "account_id", kind="data")
    role = prod.at("aws_iam_role", "data/monitoring-role")
    assert role["name"] == "tap-prod-rds-monitoring"
    (trust,) = prod.policy("aws_iam_role", "data/monitoring-role", "assume_role_policy")["Statement"]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    attachment = prod.at("aws_iam_role_policy_attachment", "data/monitoring-policy")
    assert attachment == {
        "role": prod.ref("aws_iam_role", "data/monitoring-role", "name"),
        "policy_arn": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}
    for suffix in ("pr4892", "dev"):
        paths = [stacks[suffix].paths[lid] for lid in stacks[suffix].resources("aws_iam_role")]
        assert "data/monitoring-role" not in paths


# -- cache -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix,storage,ecpu,snapshots", [
    ("pr4892", 1, 5000, 0), ("dev", 5, 20000, 3), ("prod", 20, 100000, 14)])
def test_cache_per_profile(stacks: dict[str, Synth], suffix: str, storage: int, ecpu: int,
                           snapshots: int) -> None:
    stack = stacks[suffix]
    cache = stack.at(CACHE, "data/cache")
    assert cache["name"] == f"tap-{suffix}-cache"
    assert (cache["engine"], cache["major_engine_version"]) == ("valkey", "8")
    assert cache["kms_key_id"] == data_key(stack)
    assert cache["security_group_ids"] == [stack.ref("aws_security_group", "data/cache-sg")]
    assert cache["subnet_ids"] == [stack.ref("aws_subnet", f"network/private-{i}") for i in range(3)]
    assert cache["cache_usage_limits"] == [{
        "data_storage": [{"maximum": storage, "unit": "GB"}],
        "ecpu_per_second": [{"maximum": ecpu}]}]
    assert cache["snapshot_retention_limit"] == snapshots
    assert cache.get("daily_snapshot_time") == ("03:00" if snapshots else None)


def test_cache_engine_redis_pins_its_own_major(variant: Synth) -> None:
    cache = variant.at(CACHE, "data/cache")
    assert (cache["engine"], cache["major_engine_version"]) == ("redis", "7")
    assert "\"engine\" = \"redis\"" in variant.at(
        "aws_secretsmanager_secret_version", "data/cache-secret-value")["secret_string"]


@pytest.mark.parametrize("suffix,window", [("pr4892", 0), ("dev", 7), ("prod", 30)])
def test_cache_secret_is_encrypted_with_recovery_window(stacks: dict[str, Synth], suffix: str,
                                                        window: int) -> None:
    stack = stacks[suffix]
    secret = stack.at(SECRET, "data/cache-secret")
    assert "name" not in secret
    assert secret["name_prefix"] == f"tap/{suffix}/redis-connection-"
    assert secret["kms_key_id"] == data_key(stack)
    assert secret["recovery_window_in_days"] == window


def test_cache_secret_json_is_built_from_the_real_endpoints(dev: Synth) -> None:
    cache = f"aws_elasticache_serverless_cache.{dev.logical_id(CACHE, 'data/cache')}"
    version = dev.at("aws_secretsmanager_secret_version", "data/cache-secret-value")
    assert version["secret_id"] == dev.ref(SECRET, "data/cache-secret", "id")
    assert version["secret_string"] == (
        "${jsonencode({"
        f'"engine" = "valkey", "host" = {cache}.endpoint[0].address, '
        f'"port" = {cache}.endpoint[0].port, '
        f'"reader_host" = {cache}.reader_endpoint[0].address, '
        f'"reader_port" = {cache}.reader_endpoint[0].port, "tls" = true, '
        f'"url" = "rediss://${{{cache}.endpoint[0].address}}:${{{cache}.endpoint[0].port}}"'
        "})}")


# -- what the app tier and the outputs get -----------------------------------------------

def test_container_wiring_for_the_service(dev: Synth) -> None:
    outputs = exposed(dev)
    assert outputs["container_environment"] == {
        "DB_HOST": cluster_ref(dev, "endpoint"), "DB_PORT": "5432", "DB_NAME": "tap",
        "DB_USERNAME": "tap_app", "DB_AUTH": "iam",
        "REDIS_HOST": cache_ref(dev, "endpoint[0].address"),
        "REDIS_PORT": cache_ref(dev, "endpoint[0].port"), "REDIS_TLS": "true",
        "AWS_REGION": "us-east-1", "PORT": "80"}
    # No credentials reach the service: no secret, nothing to read or decrypt.
    assert outputs["container_secrets"] == {}
    assert outputs["secret_arns"] == outputs["key_arns"] == []
    assert outputs["key_arn"] == data_key(dev)
    assert (outputs["db_port"], outputs["db_name"]) == (5432, "tap")
    assert outputs["cache_port"] == cache_ref(dev, "endpoint[0].port")
    assert outputs["cache_reader_endpoint"] == cache_ref(dev, "reader_endpoint[0].address")


def test_data_outputs(stacks: dict[str, Synth]) -> None:
    for stack in stacks.values():
        expected = {
            "aurora_cluster_identifier": cluster_ref(stack, "cluster_identifier"),
            "aurora_cluster_endpoint": cluster_ref(stack, "endpoint"),
            "aurora_reader_endpoint": cluster_ref(stack, "reader_endpoint"),
            "db_secret_arn": cluster_ref(stack, "master_user_secret[0].secret_arn"),
            "redis_cache_name": cache_ref(stack, "name"),
            "redis_endpoint": cache_ref(stack, "endpoint[0].address"),
            "redis_secret_arn": stack.ref(SECRET, "data/cache-secret", "arn"),
        }
        for name, value in expected.items():
            output = stack.outputs[name]
            assert output["value"] == value
            assert output["description"]
            assert output["sensitive"] is False


# -- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("changes,message", [
    ({"min_acu": 2.0, "max_acu": 1.0}, "0 <= min <= max"),
    ({"auto_pause_seconds": 0}, "needs db_auto_pause_seconds in 300-86400"),
    ({"auto_pause_seconds": 100000}, "needs db_auto_pause_seconds in 300-86400"),
    ({"min_acu": 0.5}, "needs db_min_acu = 0"),
    ({"instance_count": 0}, "db_instance_count must be 1-16"),
])
def test_impossible_data_profiles_raise(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_database(dataclasses.replace(database_props(EPHEMERAL_SETTINGS), **changes))


def test_reference_profiles_are_consistent() -> None:
    for suffix in SUFFIXES:
        check_database(database_props(load_settings({"ENVIRONMENT_SUFFIX": suffix})))


# -- backups that stay restorable ----------------------------------------------------------

@pytest.mark.parametrize("suffix,retained", [("pr4892", False), ("dev", True), ("prod", True)])
def test_the_data_key_outlives_a_kept_final_snapshot(stacks: dict[str, Synth], suffix: str,
                                                     retained: bool) -> None:
    key = stacks[suffix].at("aws_kms_key", stacks[suffix].key_path("data"))
    # Destroy leaves a key tagged so out of the state (tools/terraform_apply.py): the final
    # snapshot it encrypts stays restorable; the janitor deletes it when that snapshot goes.
    assert key.get("tags") == ({"RetainOnDestroy": "final-snapshot"} if retained else None)
    assert stacks[suffix].at(CLUSTER, "data/aurora")["skip_final_snapshot"] is not retained


def test_a_cluster_created_from_a_snapshot() -> None:
    stack = synthesize({"ENVIRONMENT_SUFFIX": "restored",
                        "DB_SNAPSHOT_IDENTIFIER": "tap-dev-aurora-final-0123abcd"})
    cluster = stack.at(CLUSTER, "data/aurora")
    snapshot = stack.ref("aws_db_cluster_snapshot", "data/restore-snapshot",
                         "db_cluster_snapshot_arn", kind="data")
    assert cluster["snapshot_identifier"] == snapshot
    assert cluster["lifecycle"] == {"ignore_changes": ["snapshot_identifier"]}
    assert cluster["kms_key_id"] == data_key(stack)  # re-encrypted with the new data key
    read = stack.data("aws_db_cluster_snapshot")[stack.logical_id(
        "aws_db_cluster_snapshot", "data/restore-snapshot", "data")]
    assert read["db_cluster_snapshot_identifier"] == "tap-dev-aurora-final-0123abcd"
    (check,) = read["lifecycle"]["postcondition"]
    assert check["condition"] == '${self.engine == "aurora-postgresql"}'
    assert check["error_message"] == ("DB_SNAPSHOT_IDENTIFIER=tap-dev-aurora-final-0123abcd is a "
                                      "${self.engine} snapshot, not aurora-postgresql")


def test_a_restored_cluster_gets_iam_authentication_turned_on(stacks: dict[str, Synth]) -> None:
    """The provider's restore leaves IAM authentication off (terraform-provider-aws #35189):
    tools/restored_cluster.py turns it on, for the restored cluster only, again on a new one."""
    stack = synthesize({"ENVIRONMENT_SUFFIX": "restored",
                        "DB_SNAPSHOT_IDENTIFIER": "tap-dev-aurora-final-0123abcd"})
    step = stack.at("terraform_data", "data/restored-cluster-iam-auth")
    assert step["input"] == {"cluster": stack.ref(CLUSTER, "data/aurora", "cluster_identifier"),
                             "region": "us-east-1"}
    assert step["triggers_replace"] == {
        "cluster": stack.ref(CLUSTER, "data/aurora", "cluster_resource_id")}
    (run,) = step["provisioner"]
    assert run["local-exec"]["command"].endswith('/restored_cluster.py"')
    assert run["local-exec"]["command"].startswith('"$${TAP_PYTHON:-python3}" "assets/')
    assert run["local-exec"]["environment"] == {"TAP_DB_CLUSTER": "${self.input.cluster}",
                                                "TAP_REGION": "${self.input.region}"}
    assert "when" not in run["local-exec"]
    for suffix, synth in stacks.items():
        assert "data/restored-cluster-iam-auth" not in str(synth.resources("terraform_data")), \
            suffix


@pytest.mark.parametrize("value", ["9starts-with-digit", "two--hyphens", "ends-", "a" * 256,
                                   "arn:aws:rds:us-east-1:12:cluster-snapshot:x"])
def test_bad_snapshot_identifiers_are_refused(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"DB_SNAPSHOT_IDENTIFIER": value})
    assert raised.value.variable == "DB_SNAPSHOT_IDENTIFIER"


def test_a_shared_snapshot_arn_is_accepted() -> None:
    arn = "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:tap-prod-aurora-final-0123abcd"
    assert load_settings({"DB_SNAPSHOT_IDENTIFIER": arn}).db_snapshot_identifier == arn


def test_a_given_key_cannot_keep_a_final_snapshot(dev: Synth) -> None:
    """A kept final snapshot needs the tier's own key, retained with it (the ephemeral profile,
    which gives the tier the environment's key, keeps no final snapshot)."""
    assert dev.stack is not None
    props = dev.stack._data_props()  # pylint: disable=protected-access
    assert props.database.skip_final_snapshot is False
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "given-key")
    with pytest.raises(ValueError, match="a given data key needs skip_final_snapshot"):
        DataTier(stack, "data", props=dataclasses.replace(
            props, key_arn="arn:aws:kms:us-east-1:123456789012:key/given"))
