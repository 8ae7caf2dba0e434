"""tools/quotas.py: counting and fit arithmetic on recorded stacks.

The fixtures in ``tests/tools/quotas/`` are trimmed from the synthesized dev (standard), pr4892
(ephemeral) and prod (production) stacks: a few resources each, attributes the ledger reads.
The ledger of the stacks ``make synth-profiles`` writes is docs/reference/quotas.md, checked
by tests/tools/test_docs.py.
"""
from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tools import quota_table, quotas

FIXTURES = Path(__file__).parent / "quotas"
ROOT = Path(__file__).resolve().parents[2]
SYNTH = ROOT / "build" / "synth"


def stack(name: str) -> dict[str, Any]:
    """A recorded stack: standard, ephemeral or production."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def recorded() -> dict[str, dict[str, Any]]:
    return {"dev": stack("standard"), "pr4892": stack("ephemeral"), "prod": stack("production")}


def test_counts_follow_the_resources_of_each_profile() -> None:
    ledger = quotas.build(recorded())
    shown = {name: {label: cell.shown for label, cell in cells.items()}
             for name, cells in ledger.cells.items()}
    assert shown["VPCs"] == {"dev": "1", "pr4892": "1", "prod": "1"}
    assert shown["Elastic IPs"] == {"dev": "1", "pr4892": "0", "prod": "3"}
    # prod spreads its three NAT gateways over three AZs: one in the busiest AZ.
    assert shown["NAT gateways"] == {"dev": "1", "pr4892": "0", "prod": "1"}
    assert shown["Manual DB cluster snapshots"] == \
        {"dev": "1 per destroy", "pr4892": "0", "prod": "1 per destroy"}
    assert shown["CloudWatch Logs resource policies"] == {"dev": "1", "pr4892": "1", "prod": "1"}
    assert shown["WAF web ACLs (CLOUDFRONT)"] == {"dev": "1", "pr4892": "1", "prod": "1"}
    assert shown["Gateway VPC endpoints"] == {"dev": "1", "pr4892": "1", "prod": "1"}
    assert shown["CloudFront VPC origins"] == {"dev": "0", "pr4892": "0", "prod": "0"}


def test_fits_count_the_default_vpc_and_one_dev_and_one_prod() -> None:
    fits = quotas.build(recorded()).fits
    # 5 VPCs per Region - the default VPC - dev - prod = 2 ephemeral environments.
    assert fits["VPCs"]["pr4892"] == 2
    assert fits["Internet gateways"]["pr4892"] == 2
    # Hard: 10 log resource policies - dev - prod = 8; no default-VPC share.
    assert fits["CloudWatch Logs resource policies"]["pr4892"] == 8
    assert fits["Gateway VPC endpoints"]["pr4892"] == 18
    # 5 Elastic IPs - dev 1 - prod 3 = 1: a second prod (3) does not fit, ephemerals use none.
    assert fits["Elastic IPs"] == {"dev": 1, "pr4892": None, "prod": 0}
    # Per AZ: dev's NAT and prod's first NAT share AZ 0, leaving 3 there.
    assert fits["NAT gateways"] == {"dev": 3, "pr4892": None, "prod": 3}
    assert fits["Manual DB cluster snapshots"]["dev"] == 98


def test_fargate_vcpu_at_maximum_scale_split_by_capacity_provider() -> None:
    ledger = quotas.build(recorded())
    on_demand, spot = ledger.cells["Fargate On-Demand vCPU"], ledger.cells["Fargate Spot vCPU"]
    # dev: 0.5 vCPU tasks, 2 desired, 4 at most; base 1 on FARGATE, the rest 1:1 rounded up.
    assert on_demand["dev"].shown == "1.5 (1 at desired)"
    assert spot["dev"].shown == "1 (0.5 at desired)"
    # prod: 1 vCPU tasks, all on FARGATE, 3 desired, 12 at most.
    assert on_demand["prod"].shown == "12 (3 at desired)"
    assert spot["prod"].shown == "0 (0 at desired)"
    assert on_demand["pr4892"].usage == {"us-east-1": Fraction(1, 4)}
    # 6 vCPU - dev 1.5 - prod 12 < 0: nothing fits, and the ledger says dev + prod exceed it.
    assert ledger.fits["Fargate On-Demand vCPU"]["pr4892"] == 0
    assert ledger.fits["Fargate Spot vCPU"]["pr4892"] == 20  # (6 - 1) / 0.25


@pytest.mark.parametrize("provider,tasks,expected", [
    ("FARGATE", 4, 3), ("FARGATE_SPOT", 4, 2), ("FARGATE", 1, 1), ("FARGATE_SPOT", 1, 0),
    ("FARGATE", 0, 0)])
def test_tasks_fill_bases_first_then_split_by_weight_rounded_up(provider: str, tasks: int,
                                                                  expected: int) -> None:
    strategy = [{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}]
    assert quotas.tasks_on(provider, strategy, tasks) == expected


def test_without_a_strategy_fargate_tasks_are_on_demand() -> None:
    assert quotas.tasks_on("FARGATE", [], 5) == 5
    assert quotas.tasks_on("FARGATE_SPOT", [], 5) == 0
    assert quotas.tasks_on("FARGATE_SPOT", [{"capacity_provider": "FARGATE", "weight": 1}], 5) == 0


def test_a_stack_without_its_own_network_is_not_bound_by_network_quotas() -> None:
    """What a bring-your-own-network variant looks like to the ledger: no VPC, IGW, NAT, EIP."""
    byon = stack("ephemeral")
    for rtype in ("aws_vpc", "aws_internet_gateway", "aws_subnet", "aws_vpc_endpoint"):
        byon["resource"].pop(rtype, None)
    ledger = quotas.build({**recorded(), "pr4892-byon": byon})
    for name in ("VPCs", "Internet gateways", "Gateway VPC endpoints", "Elastic IPs"):
        assert ledger.fits[name]["pr4892-byon"] is None, name
    assert ledger.binding("pr4892-byon") == (0, ["Fargate On-Demand vCPU"])
    # Without the Fargate row the hard log-policy quota binds.
    without_fargate = {name: fits for name, fits in ledger.fits.items() if "Fargate" not in name}
    smallest = min(f["pr4892-byon"] for f in without_fargate.values() if f["pr4892-byon"] is not None)
    assert smallest == 8


def test_regional_quotas_count_each_region_apart() -> None:
    """A stack outside us-east-1 still puts its WAF log policy in us-east-1 (aliased provider)."""
    documents = recorded()
    for document in documents.values():
        document["provider"]["aws"][0]["region"] = "eu-west-1"
    ledger = quotas.build(documents)
    assert ledger.cells["CloudWatch Logs resource policies"]["pr4892"].usage == {"us-east-1": 1}
    assert ledger.cells["VPCs"]["pr4892"].usage == {"eu-west-1": 1}
    assert ledger.fits["CloudWatch Logs resource policies"]["pr4892"] == 8
    assert ledger.fits["VPCs"]["pr4892"] == 2


def test_a_second_resource_halves_the_fit() -> None:
    documents = recorded()
    policies = documents["pr4892"]["resource"]["aws_cloudwatch_log_resource_policy"]
    policies["second"] = copy.deepcopy(next(iter(policies.values())))
    assert quotas.build(documents).fits["CloudWatch Logs resource policies"]["pr4892"] == 4


def test_the_summary_names_the_binding_quota_and_the_hard_ones() -> None:
    text = quotas.render(quotas.build(recorded()))
    lines = text.splitlines()
    assert lines[0].startswith("| resource | quota (AWS name) | scope | default | adjustable | dev |")
    row = next(line for line in lines if line.startswith("| CloudWatch Logs resource policies |"))
    assert "| **HARD** |" in row and row.endswith(f"| {quota_table.LOGS} |")
    assert "- one dev and one prod alone exceed Fargate On-Demand vCPU: 13.5 of 6 per Region." \
        in lines
    assert "- **pr4892**: 0 fit beside one dev and one prod, bound by Fargate On-Demand vCPU " \
        "(adjustable)." in lines
    assert "- **pr4892**: hard quotas binding below 100: CloudWatch Logs resource policies 8." \
        in lines
    below = next(line for line in lines if line.startswith("- **pr4892**: below the goal of 25:"))
    assert "VPCs 2" in below and "Internet gateways 2" in below and "Elastic IPs" not in below
    assert lines[-1] == "- **pr4892**: goal of issue 13 (at least 25 fit, no hard quota binds " \
        "below 100): NOT met."


def test_every_row_cites_an_aws_documentation_page() -> None:
    for name, row in quotas.QUOTAS.items():
        assert row.url.startswith("https://docs.aws.amazon.com/"), name
        assert row.scope in quotas.SCOPES, name
        assert row.types and all(rtype.startswith("aws_") for rtype in row.types), name


@pytest.mark.parametrize("argv,message", [
    (["dev"], "is not LABEL=STACK_JSON"),
    (["dev=a.json", "dev=b.json"], "given twice"),
    ([f"dev={FIXTURES / 'missing.json'}"], "is missing"),
    ([f"pr4892={FIXTURES / 'ephemeral.json'}"], "no stack labelled dev, prod"),
])
def test_bad_arguments_exit_2_with_a_message(argv: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert quotas.main(argv) == 2
    assert message in capsys.readouterr().err


def test_the_cli_prints_the_ledger(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [f"{label}={FIXTURES / name}.json" for label, name in
            (("dev", "standard"), ("pr4892", "ephemeral"), ("prod", "production"))]
    assert quotas.main(argv) == 0
    assert capsys.readouterr().out == quotas.render(quotas.build(recorded())) + "\n"


def shared_stack() -> dict[str, Any]:
    """The shared stack, trimmed: its pieces and its default user's group."""
    return {"provider": {"aws": [
        {"region": "us-east-1", "default_tags": [{"tags": {"Profile": "shared"}}]},
        {"alias": "global", "region": "us-east-1"}]},
        "resource": {
            "aws_lb": {"alb": {"internal": True}},
            "aws_lb_listener": {"http": {"load_balancer_arn": "${aws_lb.alb.arn}"}},
            "aws_rds_cluster": {"aurora": {"skip_final_snapshot": True}},
            "aws_elasticache_serverless_cache": {"cache": {}},
            "aws_elasticache_user": {"default": {}},
            "aws_elasticache_user_group": {"users": {}},
            "aws_cloudfront_vpc_origin": {"origin": {"provider": "aws.global"}},
            "aws_wafv2_web_acl": {"acl": {"scope": "CLOUDFRONT", "provider": "aws.global"}}}}


def on_shared_pieces() -> dict[str, Any]:
    """An environment on the shared pieces, trimmed: Spot-only tasks, one rule on the shared
    listener (read by a data source) forwarding to its target group, its cache user."""
    return {"provider": {"aws": [
        {"region": "us-east-1",
         "default_tags": [{"tags": {"Profile": "ephemeral", "Tenancy": "shared"}}]},
        {"alias": "global", "region": "us-east-1"}]},
        "resource": {
            "aws_lb_listener_rule": {"rule": {
                "listener_arn": "${data.aws_lb_listener.shared.arn}",
                "action": [{"type": "forward", "target_group_arn": "${aws_lb_target_group.web.arn}"}]}},
            "aws_lb_target_group": {"web": {}},
            "aws_elasticache_user": {"user": {}},
            "aws_elasticache_user_group_association": {"member": {}},
            "aws_ecs_task_definition": {"task": {"cpu": "256"}},
            "aws_ecs_service": {"service": {
                "task_definition": "${aws_ecs_task_definition.task.arn}", "desired_count": 1,
                "capacity_provider_strategy": [
                    {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}]}},
            "aws_appautoscaling_target": {"target": {
                "resource_id": "service/${aws_ecs_service.service.cluster}/"
                               "${aws_ecs_service.service.name}", "max_capacity": 2}},
            "aws_cloudfront_distribution": {"edge": {"provider": "aws.global"}}}}


def test_rules_on_a_listener_of_its_own_never_add_up() -> None:
    """An environment's own load balancer holds its own rule: not a shared quota's."""
    own = on_shared_pieces()
    own["resource"]["aws_lb_listener"] = {"http": {}}
    own["resource"]["aws_lb_listener_rule"]["rule"]["listener_arn"] = "${aws_lb_listener.http.arn}"
    assert quotas.on_shared_listeners(own, ("aws_lb_listener_rule", "aws_lb_target_group")) == []
    assert quotas.on_shared_listeners(on_shared_pieces(), (
        "aws_lb_listener_rule", "aws_lb_target_group")) == ["rule", "web"]


def test_the_shared_stack_counts_once_and_sixty_fit_on_its_pieces() -> None:
    ledger = quotas.build({**recorded(), "pr12": on_shared_pieces(), "shared": shared_stack()})
    assert ledger.beside == ("dev", "prod", "shared")
    assert ledger.shared_mode == frozenset({"pr12"})
    fits = {name: fits["pr12"] for name, fits in ledger.fits.items()}
    assert fits["Rules per Application Load Balancer"] == 100
    assert fits["Target groups per Application Load Balancer"] == 100
    assert fits["ElastiCache users per user group"] == 99  # the shared default user is one
    assert fits["ElastiCache users"] == 1999
    assert fits["Application Load Balancers"] is None and fits["Aurora DB clusters"] is None
    # The shared stack's own pieces count beside the ephemeral environment of its own network.
    assert ledger.fits["WAF web ACLs (CLOUDFRONT)"]["pr4892"] == 97  # 100 - dev, prod, shared
    lines = quotas.render(ledger).splitlines()
    beside = "one dev and one prod and the shared stack (shared) once"
    assert [line for line in lines if line.startswith("- **pr12**")] == [
        f"- **pr12**: 10 fit beside {beside}, bound by Fargate Spot vCPU (adjustable); beyond "
        "Fargate's vCPU, 99 (ElastiCache users per user group).",
        "- **pr12**: below the goal of 60 other than Fargate's vCPU: none.",
        "- **pr12**: hard quotas binding below 100: none.",
        f"- **pr12**: Fargate vCPU that 60 of them need beside {beside}, at maximum scale: "
        "Fargate On-Demand vCPU 13.5 (default 6): `aws service-quotas "
        "request-service-quota-increase --service-code fargate --quota-code L-3032A538 "
        "--desired-value 14`; Fargate Spot vCPU 31 (default 6): `aws service-quotas "
        "request-service-quota-increase --service-code fargate --quota-code L-36FBB829 "
        "--desired-value 31`.",
        "- **pr12**: goal of issue 26 (at least 60 fit on the shared pieces, nothing but "
        "Fargate's vCPU binds below it, no hard quota below 100): met."]
    row = next(line for line in lines if line.startswith("| Rules per Application Load"))
    assert row.split(" | ")[2] == "per shared load balancer"
    assert row.split(" | ")[-2] == "once"  # the shared stack gets no fit of its own
