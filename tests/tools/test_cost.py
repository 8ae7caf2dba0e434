"""tools/cost.py, tools/cost_items.py: line items and totals of recorded stacks, the tables' rules.

``tests/tools/cost/small.json`` is a hand-written stack with one resource of each priced kind (and
two free ones); its figures are computed by hand in ``test_the_small_stack_line_by_line`` from
tools/prices.toml. ``unknown.json`` has two types no table knows. The synthesized profiles of
``make synth-profiles`` (build/synth) are checked when present: every type they use has an entry,
and the quantities follow their JSON; absent, those tests skip, and fail instead under ``make scan``
(``TAP_SCAN_REQUIRED=1``), which synthesizes them first.
"""
from __future__ import annotations

import copy
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tools import cost, cost_items

FIXTURES = Path(__file__).parent / "cost"
SMALL = FIXTURES / "small.json"
SYNTH = Path(__file__).resolve().parents[2] / "build" / "synth"
PRICES = cost.load_prices()
TYPES = cost.load_types(PRICES)


def small() -> dict[str, Any]:
    return json.loads(SMALL.read_text(encoding="utf-8"))


def estimate(document: dict[str, Any], **assumed: str) -> cost.Estimate:
    scenario = cost_items.Scenario(**{key: Decimal(value) for key, value in assumed.items()})
    return cost.estimate("small", document, PRICES, TYPES, scenario)


def usd(found: cost.Estimate, resource: str, what: str) -> tuple[Decimal, Decimal]:
    """(idle, load) USD of the one item of ``resource`` named ``what``."""
    items = [item for item in found.items if item.resource == resource and item.what == what]
    assert len(items) == 1, (resource, what, [(i.resource, i.what) for i in found.items])
    return found.usd(items[0], "idle"), found.usd(items[0], "load")


def synthesized() -> dict[str, Path]:
    """The stacks of build/synth by label; skips (or fails under make scan) without them."""
    paths = {path.parts[-4]: path for path in sorted(SYNTH.glob("*/stacks/*/cdk.tf.json"))}
    if not paths:
        assert os.environ.get("TAP_SCAN_REQUIRED") != "1", f"no synthesized stacks in {SYNTH}"
        pytest.skip(f"no synthesized stacks in {SYNTH}: run `make synth-profiles`")
    return paths


def test_the_small_stack_line_by_line() -> None:
    found = estimate(small())
    hours = Decimal(730)
    # Service: 3 tasks of 0.5 vCPU and 1 GB; base 1 on FARGATE, the other 2 split 1:3, so
    # 1.5 tasks on FARGATE and 1.5 on FARGATE_SPOT: 1.5 x 0.5 x 730 = 547.5 vCPU-hours each.
    assert usd(found, "app/service", "vCPU of 1.5 tasks on FARGATE") == \
        (Decimal("547.5") * Decimal("0.04048"),) * 2  # 22.1628
    assert usd(found, "app/service", "memory of 1.5 tasks on FARGATE")[0] == \
        Decimal("1095") * Decimal("0.004445")  # 4.867275
    assert usd(found, "app/service", "vCPU of 1.5 tasks on FARGATE_SPOT")[0] == \
        Decimal("547.5") * Decimal("0.02024")  # 11.0814
    assert usd(found, "app/service", "memory of 1.5 tasks on FARGATE_SPOT")[0] == \
        Decimal("1095") * Decimal("0.0022225")  # 2.4336375
    # assign_public_ip: 3 tasks x 730 h x $0.005 = 10.95; an internet-facing ALB in 2 subnets: 7.30.
    assert usd(found, "app/service", "public IPv4 of each task") == (Decimal("10.95"),) * 2
    assert usd(found, "app/alb", "public IPv4 in 2 subnets") == (Decimal("7.3"),) * 2
    assert usd(found, "app/alb", "load balancer hours") == (hours * Decimal("0.0225"),) * 2
    # LCU-hours under load: max(1,000,000 / (3,600 x 25) = 11.11, 10 GB, no rule beyond 10).
    lcu_idle, lcu_load = usd(found, "app/alb", "capacity units")
    assert lcu_idle == 0 and round(lcu_load, 6) == Decimal("0.088889")
    # Container Insights: 11 + 13 (one service) + 8 (one family) = 32 metrics x $0.30.
    assert usd(found, "app/cluster", "Container Insights metrics of 1 service, 1 task family") == \
        (Decimal("9.6"),) * 2
    # Aurora: min 0 pauses (0 ACU idle); under load 0.5 ACU x 730 h x $0.12 = 43.80.
    assert usd(found, "data/db-0", "capacity, 0 to 4 ACU") == (0, Decimal("43.8"))
    assert usd(found, "data/db", "master password secret (RDS's)") == (Decimal("0.4"),) * 2
    assert usd(found, "data/db", "I/O requests") == (0, Decimal("0.2"))
    # Enhanced Monitoring every 60 s: 43,800 events x 10 KB = 0.438 GB x $0.50 = 0.219, kept
    # 30 days: 0.438 x 720 / 730 = 0.432 GB-month x $0.03 = 0.01296.
    assert usd(found, "data/db-0", "Enhanced Monitoring logs, every 60 s")[0] == Decimal("0.219")
    assert usd(found, "data/db-0", "Enhanced Monitoring logs kept 30 days")[0] == Decimal("0.01296")
    # Redis meters 1 GB at least: 730 GB-hours x $0.125 = 91.25, idle and at 0.25 GB under load;
    # 2 million ECPUs x $0.0034; 2 snapshots of 0.25 GB x $0.085.
    assert usd(found, "data/cache", "data stored (redis meters 1 GB at least)") == \
        (Decimal("91.25"),) * 2
    assert usd(found, "data/cache", "ECPUs") == (0, Decimal("0.0068"))
    assert usd(found, "data/cache", "2 daily snapshots of the data held") == (0, Decimal("0.0425"))
    # WAF: $5 + 3 rules (two managed groups, one rate rule); 1 M requests x $0.60; 1.5 GB of
    # logs to S3 x $0.25.
    assert usd(found, "edge/acl", "3 rules (a rule group is one)") == (Decimal(3),) * 2
    assert usd(found, "edge/acl", "requests inspected") == (0, Decimal("0.6"))
    assert usd(found, "edge/acl-logging", "WAF logs delivered to S3") == (0, Decimal("0.375"))
    # The log bucket gets 0.5 KB (ALB) + 1.5 KB (WAF) per request: 2 GB a month kept 10 days,
    # 2 x 240 / 730 GB-month x $0.023.
    assert usd(found, "app/logs", "access logs kept 10 days") == \
        (0, Decimal(2) * 240 / 730 * Decimal("0.023"))
    assert usd(found, "edge/cdn", "data transfer out") == (0, Decimal("0.85"))
    assert usd(found, "edge/cdn", "HTTPS requests") == (0, Decimal(1))
    # Alarms: 1 standard metric, 1 high-resolution (10 s period), 2 metrics of metric math;
    # the target tracking policy disables scale-in: 1 alarm.
    assert usd(found, "monitoring/cpu", "alarm on 1 metric") == (Decimal("0.1"),) * 2
    assert usd(found, "monitoring/fast", "alarm on 1 metric, high resolution") == \
        (Decimal("0.3"),) * 2
    assert usd(found, "monitoring/math", "alarm on 2 metrics") == (Decimal("0.2"),) * 2
    assert usd(found, "app/scale", "1 target tracking alarm") == (Decimal("0.1"),) * 2
    assert usd(found, "app/logs-group", "log storage (14 days' retention)") == \
        (0, Decimal(336) / 730 * Decimal("0.03"))
    assert usd(found, "network/nat", "data processed") == (0, Decimal("0.225"))
    # Idle: 27.030075 (FARGATE) + 13.5150375 (Spot) + 10.95 + 23.725 (ALB) + 0.5 (Aurora) +
    # 0.23196 (monitoring) + 91.25 (cache) + 8 (WAF) + 0.7 (alarms) + 3 + 9.6 + 1 + 0.4 +
    # 3.65 (EIP) + 32.85 (NAT) = 226.4020725. Load adds 0.0888889 (LCU) + 0.0151233 (S3) + 0.2 +
    # 43.8 + 0.0068 + 0.0425 + 0.6 + 0.375 + 1.85 (CloudFront) + 0.5138082 (logs) + 0.225 (NAT).
    assert found.total("idle") == Decimal("226.4020725")
    assert cost.money(found.total("idle")) == "226.40"
    assert cost.money(found.total("load")) == "274.12"
    assert found.profile == "ephemeral"


def test_load_options_change_the_load_figures_only() -> None:
    base = estimate(small())
    more = estimate(small(), egress_gb="20")
    assert more.total("idle") == base.total("idle")
    # 10 GB more egress: 10 x $0.085, and the LCU-hours follow the bytes: 20 instead of 11.11.
    assert cost.money(more.total("load") - base.total("load")) == cost.money(
        Decimal("0.85") + (20 - Decimal(1_000_000) / 90_000) * Decimal("0.008"))
    quiet = estimate(small(), requests="0", egress_gb="0", log_gb="0", db_acu="0",
                     db_io_million="0", cache_gb="0", nat_gb="0")
    assert quiet.total("load") == quiet.total("idle") == base.total("idle")


@pytest.mark.parametrize("strategy,tasks,expected", [
    ([], 2, {"FARGATE": 2}),
    ([{"capacity_provider": "FARGATE", "base": 0, "weight": 1},
      {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}], 1,
     {"FARGATE": Decimal("0.5"), "FARGATE_SPOT": Decimal("0.5")}),
    ([{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
      {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}], 2,
     {"FARGATE": Decimal("1.5"), "FARGATE_SPOT": Decimal("0.5")}),
    ([{"capacity_provider": "FARGATE", "base": 3, "weight": 1}], 2, {"FARGATE": 2}),
    ([{"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 4},
      {"capacity_provider": "FARGATE", "base": 0, "weight": 1}], 5,
     {"FARGATE": 1, "FARGATE_SPOT": 4}),
])
def test_bases_first_then_the_share_the_weights_give(strategy: list[dict[str, Any]], tasks: int,
                                                    expected: dict[str, Decimal]) -> None:
    assert cost_items.task_shares(strategy, Decimal(tasks)) == expected


def test_an_unknown_type_exits_1_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main([f"small={SMALL}", f"odd={FIXTURES / 'unknown.json'}"]) == 1
    err = capsys.readouterr().err
    assert err == ("cost: no price or free entry for resource type(s): aws_bar_gadget (odd); "
                   "aws_foo_widget (odd) (add them to cost_types.toml)\n")


@pytest.mark.parametrize("change,message", [
    (lambda d: d["resource"]["aws_vpc_endpoint"]["s3"].update(vpc_endpoint_type="Interface"),
     "aws_vpc_endpoint.s3 is not free (vpc_endpoint_type = Interface) and has no price"),
    (lambda d: d["resource"]["aws_ecs_cluster"]["cluster"]["setting"][0].update(value="enhanced"),
     "aws_ecs_cluster.cluster: containerInsights = enhanced is not priced"),
    (lambda d: d["provider"]["aws"][0].update(region="eu-west-1"),
     "small: providers in eu-west-1, us-east-1; the price table is for us-east-1 only"),
    (lambda d: d["resource"]["aws_rds_cluster_instance"]["db0"].update(
        instance_class="db.r6g.large"), "instance class db.r6g.large is not priced"),
    (lambda d: d["resource"]["aws_elasticache_serverless_cache"]["cache"].update(
        engine="memcached"), "engine memcached is not priced"),
    (lambda d: d["resource"]["aws_wafv2_web_acl"]["acl"].update(rule_json=json.dumps(
        [{"Statement": {"ManagedRuleGroupStatement": {
            "Name": "AWSManagedRulesBotControlRuleSet"}}}])),
     "paid rule groups AWSManagedRulesBotControlRuleSet are not priced"),
])
def test_what_the_tables_cannot_price_exits_1(change: Any, message: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    document = copy.deepcopy(small())
    change(document)
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert cost.main([f"small={path}"]) == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("field", ["source", "unit", "read", "usd"])
def test_a_price_without_a_field_is_refused(field: str, tmp_path: Path) -> None:
    entry = {"description": '"x"', "usd": "1.0", "unit": '"hour"', "region": '"us-east-1"',
             "source": '"https://aws.amazon.com/x/pricing/"', "read": "2026-12-05"}
    (tmp_path / "prices.toml").write_text(
        "[thing]\n" + "".join(f"{key} = {value}\n" for key, value in entry.items() if key != field),
        encoding="utf-8")
    with pytest.raises(cost.TableError, match=f"thing has no {field}$"):
        cost.load_prices(tmp_path / "prices.toml")


def test_a_price_whose_source_is_no_url_is_refused(tmp_path: Path) -> None:
    (tmp_path / "prices.toml").write_text(
        '[thing]\ndescription = "x"\nusd = 1.0\nunit = "hour"\nregion = "us-east-1"\n'
        'source = "the pricing page"\nread = 2026-12-05\n', encoding="utf-8")
    with pytest.raises(cost.TableError, match="thing needs an https source and a read date"):
        cost.load_prices(tmp_path / "prices.toml")
    assert cost.main(["--prices", str(tmp_path / "prices.toml"), f"small={SMALL}"]) == 2


def test_every_price_has_its_fields_and_every_priced_type_a_pricer() -> None:
    for key, price in PRICES.items():
        assert price.source.startswith("https://aws.amazon.com/"), key
        assert price.unit and price.region in ("us-east-1", "global") and price.usd > 0, key
    priced = {rtype for rtype, entry in TYPES.items() if "priced" in entry}
    assert priced == set(cost_items.PRICERS)
    assert all(entry.get("free") for rtype, entry in TYPES.items() if rtype not in priced)


def test_a_type_entry_both_free_and_priced_is_refused(tmp_path: Path) -> None:
    (tmp_path / "types.toml").write_text(
        '[aws_vpc]\nfree = "no charge"\npriced = ["alb_hour"]\nquantity = "x"\n', encoding="utf-8")
    with pytest.raises(cost.TableError, match="aws_vpc needs a free reason, or priced keys"):
        cost.load_types(PRICES, tmp_path / "types.toml")


def test_the_type_table_and_the_registry_have_the_same_types(tmp_path: Path) -> None:
    text = cost.TYPES.read_text(encoding="utf-8")
    without = text.replace('[aws_sqs_queue]\nfree = ', '[aws_made_up_queue]\nfree = ')
    assert without != text
    (tmp_path / "types.toml").write_text(without, encoding="utf-8")
    with pytest.raises(cost.TableError) as raised:
        cost.load_types(PRICES, tmp_path / "types.toml")
    assert str(raised.value) == (
        f"type table {tmp_path / 'types.toml'}: aws_sqs_queue: no cost entry in types.toml; "
        "aws_made_up_queue: not a type of lib/resource_types.py")


@pytest.mark.parametrize("argv,message", [
    (["dev"], "is not LABEL=STACK_JSON"),
    (["dev=a.json", "dev=b.json"], "given twice"),
    ([f"dev={FIXTURES / 'missing.json'}"], "is missing"),
])
def test_bad_arguments_exit_2(argv: list[str], message: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main(argv) == 2
    assert message in capsys.readouterr().err


def test_json_has_per_label_totals_and_items(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main(["--json", f"small={SMALL}", f"again={SMALL}"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"labels", "shared", "scenario", "prices_read"}
    assert data["shared"] == {}  # no shared stack among the inputs
    assert list(data["labels"]) == ["small", "again"]
    small_ = data["labels"]["small"]
    assert set(small_) == {"profile", "idle_monthly_usd", "load_monthly_usd", "items"}
    assert (small_["idle_monthly_usd"], small_["load_monthly_usd"]) == (226.4, 274.12)
    assert small_["items"][0] == {
        "resource": "data/cache", "type": "aws_elasticache_serverless_cache",
        "item": "data stored (redis meters 1 GB at least)", "price": "redis_serverless_gb_hour",
        "unit": "GB-hour", "usd_per_unit": "0.125", "idle_quantity": "730", "load_quantity": "730",
        "idle_monthly_usd": 91.25, "load_monthly_usd": 91.25}
    assert data["scenario"]["requests"] == "1000000" and data["prices_read"] == ["2026-12-05"]


def test_markdown_is_deterministic_and_dated(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main([f"small={SMALL}", f"again={SMALL}"]) == 0
    first = capsys.readouterr().out
    assert cost.main([f"small={SMALL}", f"again={SMALL}"]) == 0
    assert capsys.readouterr().out == first
    lines = first.splitlines()
    assert "us-east-1 list prices read 2026-12-05 (tools/prices.toml)" in lines[2]
    assert lines[6] == ("| small | ephemeral | 226.40 | 274.12 | data/cache data stored (redis "
                        "meters 1 GB at least) 91.25, network/nat NAT gateway hours 32.85, "
                        "app/service vCPU of 1.5 tasks on FARGATE 22.16, app/alb load balancer "
                        "hours 16.43, app/service vCPU of 1.5 tasks on FARGATE_SPOT 11.08 |")
    assert "- 1,000,000 requests a month through CloudFront, WAF and the load balancer, all " \
        "HTTPS and all forwarded to the origin (no cache hits)" in lines
    assert "| **total** | | | | | | **226.40** | **274.12** |" in lines
    assert f"| alb_hour | Application Load Balancer | 0.0225 | hour | us-east-1 | 2026-12-05 | " \
        f"{PRICES['alb_hour'].source} | {PRICES['alb_hour'].checked} |" in lines
    # Two labels, one row per type they use.
    assert lines.count("| aws_route_table | free | No charge for route tables. |") == 1


def test_every_type_of_every_synthesized_profile_has_an_entry() -> None:
    documents = cost.load(synthesized())
    assert cost.unknown_types(documents, TYPES) == []
    for label, document in documents.items():
        assert cost.estimate(label, document, PRICES, TYPES, cost_items.Scenario()).items, label


def test_synthesized_quantities_follow_their_json() -> None:
    """Aurora's idle ACU is min_capacity, tasks are desired_count, WAF rules those of rule_json
    (each where the label has it: the shared stack has no service, an environment on the shared
    pieces no database and no web ACL)."""
    for label, document in cost.load(synthesized()).items():
        found = cost.estimate(label, document, PRICES, TYPES, cost_items.Scenario())
        resources = document["resource"]
        acu = [item for item in found.items if item.price == "aurora_acu_hour"]
        assert len(acu) == len(resources.get("aws_rds_cluster_instance", {})), label
        if acu:
            scaling = next(iter(resources["aws_rds_cluster"].values()))[
                "serverlessv2_scaling_configuration"]
            assert {item.idle for item in acu} == {Decimal(str(scaling["min_capacity"])) * 730}
        rules = [item for item in found.items if item.price == "waf_rule_month"]
        assert [item.idle for item in rules] == [len(json.loads(acl["rule_json"])) for acl in
                                                 resources.get("aws_wafv2_web_acl", {}).values()]
        alarms = sum(item.idle for item in found.items
                     if item.rtype == "aws_cloudwatch_metric_alarm")
        assert alarms >= len(resources["aws_cloudwatch_metric_alarm"]), label
        if "aws_ecs_service" not in resources:
            continue
        service = next(iter(resources["aws_ecs_service"].values()))
        tasks = sum(Decimal(item.what.split(" of ")[1].split(" task")[0])
                    for item in found.items
                    if item.rtype == "aws_ecs_service" and item.what.startswith("vCPU of"))
        assert tasks == service["desired_count"], label


def test_the_shared_stack_is_shown_apart_and_divided(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    platform = small()
    provider = platform["provider"]["aws"][0]
    provider["default_tags"] = [{"tags": {"Profile": "shared"}}]
    path = tmp_path / "shared.json"
    path.write_text(json.dumps(platform), encoding="utf-8")
    assert cost.main([f"small={SMALL}", f"shared={path}", "--shared-among", "40"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "- shared (shared): 226.40 a month idle (274.12 under the load below) per account, " \
        "divided among 40 environments: 5.66 each idle, not in their own totals above" in lines
    assert cost.main(["--json", f"small={SMALL}", f"shared={path}"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["shared"] == {"shared": {"idle_monthly_usd": 226.4, "load_monthly_usd": 274.12,
                                         "among": 25, "idle_monthly_usd_each": 9.06}}
    assert data["labels"]["shared"]["profile"] == "shared"
    assert cost.main([f"small={SMALL}", "--shared-among", "0"]) == 2
    assert capsys.readouterr().err == "cost: --shared-among 0: at least one environment\n"


def test_an_environment_on_the_shared_pieces_costs_at_most_15_a_month_idle() -> None:
    """Issue 26's target, on the synthesized pr4892-shared (its shared pieces apart)."""
    documents = cost.load(synthesized())
    found = cost.estimate("pr4892-shared", documents["pr4892-shared"], PRICES, TYPES,
                          cost_items.Scenario())
    assert found.total("idle") <= 15
    assert {item.rtype for item in found.items} >= {"aws_ecs_service", "aws_kms_key"}
    assert not {"aws_lb", "aws_wafv2_web_acl", "aws_rds_cluster", "aws_cloudwatch_dashboard",
                "aws_elasticache_serverless_cache"} & {item.rtype for item in found.items}
    platform = cost.estimate("shared", documents["shared"], PRICES, TYPES, cost_items.Scenario())
    assert platform.profile == "shared"
    assert {item.rtype for item in platform.items} >= {"aws_lb", "aws_wafv2_web_acl",
                                                       "aws_elasticache_serverless_cache"}
