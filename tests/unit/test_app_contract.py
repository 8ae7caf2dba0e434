"""The application team's contract on the synthesized JSON of dev, pr4892 and prod with the
manifest that uses every key (tests/unit/manifests/full.toml): its container, its secrets, the
release task and its gate, the scheduled jobs, and the least privilege of each."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.synth import Synth, synthesize

FULL = Path(__file__).parent / "manifests" / "full.toml"
SUFFIXES = ("dev", "pr4892", "prod")
EXEC = {"pr4892": True, "dev": True, "prod": False}
WINDOW = {"pr4892": 0, "dev": 7, "prod": 30}
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/tap/app:1.0.0"


@pytest.fixture(scope="module")
def manifested() -> dict[str, Synth]:
    """dev, pr4892 and prod with the full manifest."""
    return {suffix: synthesize({"ENVIRONMENT_SUFFIX": suffix, "APP_MANIFEST": str(FULL)})
            for suffix in SUFFIXES}


def container_at(stack: Synth, path: str) -> dict[str, Any]:
    (container,) = json.loads(stack.at("aws_ecs_task_definition", path)["container_definitions"])
    return dict(container)


def statements(stack: Synth, path: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in stack.policy("aws_iam_role_policy", path)["Statement"]}


def secret_arns(stack: Synth) -> dict[str, str]:
    return {name: stack.ref("aws_secretsmanager_secret", f"app-secrets/{name}", "arn")
            for name in ("SIGNING_KEY", "STRIPE_API_KEY")}


def test_the_service_container_from_the_manifest(manifested: dict[str, Synth]) -> None:
    for suffix, stack in manifested.items():
        container = container_at(stack, "app/task")
        assert container["image"] == IMAGE
        assert container["command"] == ["gunicorn", "--config", "app/gunicorn.conf.py",
                                        "app.wsgi:application"]
        assert container["portMappings"] == [{"containerPort": 8000, "hostPort": 8000,
                                              "protocol": "tcp"}]
        environment = {e["name"]: e["value"] for e in container["environment"]}
        assert environment["FEATURE_FLAGS"] == "beta" and environment["APP_GREETING"] == "hello"
        assert (environment["PORT"], environment["DB_USERNAME"], environment["DB_AUTH"]) == \
            ("8000", "tap_app", "iam")
        arns = secret_arns(stack)
        assert container["secrets"] == [{"name": name, "valueFrom": arn}
                                        for name, arn in sorted(arns.items())]
        assert container["healthCheck"] == {
            "command": ["CMD", "python", "-m", "app.healthcheck"], "interval": 30, "timeout": 5,
            "retries": 3, "startPeriod": 15}
        assert container["readonlyRootFilesystem"] is True
        paths = ["/tmp", *(["/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"]
                           if EXEC[suffix] else [])]
        assert [m["containerPath"] for m in container["mountPoints"]] == paths
        volumes = [v["name"] for v in stack.at("aws_ecs_task_definition", "app/task")["volume"]]
        assert volumes == [m["sourceVolume"] for m in container["mountPoints"]]


def test_the_load_balancer_checks_the_liveness_path(manifested: dict[str, Synth]) -> None:
    for stack in manifested.values():
        group = stack.at("aws_lb_target_group", "lb/web")
        assert (group["port"], group["health_check"]["path"]) == (8000, "/healthz")


def test_the_execution_role_reads_exactly_the_apps_secrets(manifested: dict[str, Synth]
                                                          ) -> None:
    for stack in manifested.values():
        found = statements(stack, "app/execution-policy")
        assert set(found) == {"WriteTaskLogs", "EcrLogin", "PullImage", "ReadTaskSecrets",
                              "DecryptTaskSecrets"}
        assert found["ReadTaskSecrets"]["Resource"] == list(secret_arns(stack).values())
        assert found["DecryptTaskSecrets"]["Resource"] == [
            stack.key_ref("data")]
        assert found["PullImage"]["Resource"] == [
            "arn:aws:ecr:us-east-1:123456789012:repository/tap/app"]


def test_one_secret_per_name_without_a_value(manifested: dict[str, Synth]) -> None:
    for suffix, stack in manifested.items():
        for name, description in (("STRIPE_API_KEY", "payments"),
                                  ("SIGNING_KEY", "SIGNING_KEY of the application")):
            secret = stack.at("aws_secretsmanager_secret", f"app-secrets/{name}")
            assert "name" not in secret
            assert secret["name_prefix"] == f"tap/{suffix}/app/{name}-"
            assert secret["description"] == f"{description} (tap-{suffix}; set with make " \
                                            "secret-set)"
            assert secret["kms_key_id"] == stack.key_ref("data")
            assert secret["recovery_window_in_days"] == WINDOW[suffix]
        versions = [stack.paths[lid] for lid in stack.resources("aws_secretsmanager_secret_version")]
        assert not [path for path in versions if path.startswith("app-secrets/")]


def test_only_the_release_gets_the_master_credentials(manifested: dict[str, Synth]) -> None:
    for stack in manifested.values():
        master = stack.ref("aws_rds_cluster", "data/aurora", "master_user_secret[0].secret_arn")
        for lid, task in stack.resources("aws_ecs_task_definition").items():
            path = stack.paths[lid]
            assert (master in task["container_definitions"]) is (path == "release/task"), path
        release = container_at(stack, "release/task")
        assert release["command"] == ["python", "-m", "app.migrate"]
        assert "healthCheck" not in release
        secrets = {s["name"]: s["valueFrom"] for s in release["secrets"]}
        assert secrets == {**secret_arns(stack),
                           "DB_ADMIN_USERNAME": f"{master}:username::",
                           "DB_ADMIN_PASSWORD": f"{master}:password::"}
        assert release["logConfiguration"]["options"]["awslogs-stream-prefix"] == "release"
        task = stack.at("aws_ecs_task_definition", "release/task")
        assert "task_role_arn" not in task
        assert task["execution_role_arn"] == stack.ref("aws_iam_role", "release/execution-role",
                                                       "arn")
        found = statements(stack, "release/execution-policy")
        assert found["ReadTaskSecrets"]["Resource"] == [*secret_arns(stack).values(), master]
        assert found["DecryptTaskSecrets"]["Resource"] == [
            stack.key_ref("data")]


def test_the_gate_runs_before_the_service_switches(manifested: dict[str, Synth]) -> None:
    for stack in manifested.values():
        gate = stack.at("terraform_data", "release/gate")
        gate_id = stack.logical_id("terraform_data", "release/gate")
        assert stack.at("aws_ecs_service", "app/service")["depends_on"][-1] == \
            f"terraform_data.{gate_id}"
        release_arn = stack.ref("aws_ecs_task_definition", "release/task", "arn")
        assert gate["triggers_replace"]["service"] == stack.ref("aws_ecs_task_definition",
                                                                "app/task", "arn")
        assert gate["triggers_replace"]["release"] == release_arn
        (provisioner,) = gate["provisioner"]
        command = provisioner["local-exec"]["command"]
        assert command.startswith('"$${TAP_PYTHON:-python3}" "assets/release_runner_')
        assert command.endswith('/one_off.py" release')
        environment = provisioner["local-exec"]["environment"]
        assert environment["TAP_TASK_DEFINITION"] == release_arn
        assert environment["TAP_CLUSTER"] == stack.ref("aws_ecs_cluster", "app/cluster", "arn")
        assert environment["TAP_TIMEOUT_SECONDS"] == "600"
        assert environment["TAP_SECURITY_GROUPS"] == stack.ref("aws_security_group",
                                                               "network/task-sg")
        assert environment["TAP_LOG_STREAM_PREFIX"] == "release"
        for name in ("SIGNING_KEY", "STRIPE_API_KEY"):
            assert f"{name}=${{aws_secretsmanager_secret." in environment["TAP_SECRETS"]


@pytest.mark.parametrize("job,family_suffix,command", [
    ("nightly-report", "job-nightly-report", ["python", "-m", "app.report"]),
    ("cleanup", "job-cleanup", ["python", "-m", "app.report", "--cleanup"])])
def test_each_job_runs_its_own_task_on_a_schedule(manifested: dict[str, Synth], job: str,
                                                  family_suffix: str, command: list[str]) -> None:
    for suffix, stack in manifested.items():
        task = stack.at("aws_ecs_task_definition", f"jobs/{job}-task")
        assert task["family"] == f"tap-{suffix}-{family_suffix}"
        assert task["execution_role_arn"] == stack.ref("aws_iam_role", "app/execution-role", "arn")
        assert task["task_role_arn"] == stack.ref("aws_iam_role", "app/task-role", "arn")
        assert container_at(stack, f"jobs/{job}-task")["command"] == command
        schedule = stack.at("aws_scheduler_schedule", f"jobs/{job}")
        assert schedule["name"] == f"tap-{suffix}-{job}"
        assert schedule["state"] == ("DISABLED" if suffix == "pr4892" else "ENABLED")
        assert schedule["flexible_time_window"] == {"mode": "OFF"}
        target = schedule["target"]
        assert target["arn"] == stack.ref("aws_ecs_cluster", "app/cluster", "arn")
        assert target["role_arn"] == stack.ref("aws_iam_role", f"jobs/{job}-role", "arn")
        assert target["ecs_parameters"]["task_definition_arn"] == stack.ref(
            "aws_ecs_task_definition", f"jobs/{job}-task", "arn")
        assert target["retry_policy"] == {"maximum_retry_attempts": 3,
                                          "maximum_event_age_in_seconds": 3600}
        queue = stack.ref("aws_sqs_queue", "jobs/dead-letters", "arn")
        assert target["dead_letter_config"] == {"arn": queue}
        found = statements(stack, f"jobs/{job}-policy")
        account = stack.ref("aws_caller_identity", "caller", "account_id", kind="data")
        family = f"arn:aws:ecs:us-east-1:{account}:task-definition/tap-{suffix}-{family_suffix}"
        assert found["RunTheJobsTask"]["Resource"] == [f"{family}:*"]
        assert found["RunTheJobsTask"]["Condition"] == {
            "ArnEquals": {"ecs:cluster": stack.ref("aws_ecs_cluster", "app/cluster", "arn")}}
        assert found["PassItsRoles"]["Resource"] == [
            stack.ref("aws_iam_role", "app/execution-role", "arn"),
            stack.ref("aws_iam_role", "app/task-role", "arn")]
        assert found["DeadLetters"]["Resource"] == [queue]
        assert set(found) == {"RunTheJobsTask", "PassItsRoles", "DeadLetters"}


def test_a_job_that_never_runs_raises_an_alarm(manifested: dict[str, Synth]) -> None:
    for suffix, stack in manifested.items():
        queue = stack.at("aws_sqs_queue", "jobs/dead-letters")
        assert queue["name"] == f"tap-{suffix}-jobs-dlq"
        assert queue["sqs_managed_sse_enabled"] is True
        alarm = stack.at("aws_cloudwatch_metric_alarm", "monitoring/jobs-dead-letters")
        assert (alarm["namespace"], alarm["metric_name"]) == (
            "AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert alarm["dimensions"] == {"QueueName": stack.ref("aws_sqs_queue", "jobs/dead-letters",
                                                              "name")}
        assert (alarm["threshold"], alarm["comparison_operator"]) == (0, "GreaterThanThreshold")
