"""The registry of types (lib/resource_types.py) holds every type the stack synthesizes, with
every fact the tools read from it, and the tables kept elsewhere agree with it.

``problems(types)`` names, per type, each missing fact: no entry, no bootstrap actions, a
service without its service-linked role decided, a quota row tools/quotas.py lacks, a
leftovers lister tests/e2e/leftovers.py lacks (or a parent that is no type), no cost entry
in tools/cost_types.toml, ``iam:PassRole`` without the service it passes roles to. It runs on

- the stacks this session builds in-process (the three reference profiles and the
  all-options variant: tests/unit/conftest.py), so that `make unit` fails on a new type;
- the labels ``make synth-profiles`` wrote (``build/synth``): skipped without them, required
  with ``TAP_SCAN_REQUIRED=1`` (``make scan``);
- a small recorded stack with made-up types (``resource_types/made_up.json``): the failure
  itself, message by message.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

import pytest

from lib import bindings, resource_types
from lib.resource_types import (ACTIONS, CHECKED_BY, DATA_SOURCES, HOME, LINKED_ROLES, NOTHING,
                                PARENT, RESOURCES, STATEFUL_TYPES, ResourceType, stack_types)
from tests.e2e.leftovers import LISTERS
from tests.unit.synth import Synth
from tools import cost, quotas

ROOT = Path(__file__).resolve().parents[2]
SYNTH = ROOT / "build" / "synth"
LABELS = {"dev", "pr4892", "prod", "pr4892-byon", "dev-app"}
MADE_UP = Path(__file__).resolve().parent / "resource_types" / "made_up.json"
COST_TYPES = tomllib.loads(cost.TYPES.read_text(encoding="utf-8"))


def leftovers_problem(rtype: str, how: str, resources: Mapping[str, ResourceType]) -> str | None:
    """What is wrong with how ``rtype``'s leftovers are found (None: nothing)."""
    if how.startswith(PARENT):
        found = how.removeprefix(PARENT)
        return None if found in resources and found != rtype else \
            f"{rtype}: its leftovers' parent {found} is not a type of {HOME}"
    if how.startswith((CHECKED_BY, NOTHING)):
        return None if len(how.split(": ", 1)[1]) >= 20 else \
            f"{rtype}: no reason why its leftovers need no lister in {HOME}"
    return None if how in LISTERS else \
        f"{rtype}: no leftovers lister {how!r} in tests/e2e/leftovers.py"


def problems(types: set[str], resources: Mapping[str, ResourceType] | None = None) -> list[str]:
    """Every fact missing for ``types`` (resource types, and data sources as ``data.<type>``),
    one line each naming the type and the fact; ``resources``: the registry's by default."""
    resources = RESOURCES if resources is None else resources
    lines = [line for line in resource_types.missing(types)
             if line.split(":", 1)[0] not in resources]
    for rtype in sorted(t for t in types if t in resources):
        entry = resources[rtype]
        if not entry.actions:
            lines.append(f"{rtype}: no bootstrap actions in {HOME}")
        if entry.service not in LINKED_ROLES:
            lines.append(f"{rtype}: service {entry.service!r} is not in {HOME} LINKED_ROLES")
        lines += [f"{rtype}: quota row {row!r} is not in tools/quotas.py QUOTAS"
                  for row in entry.quotas if row not in quotas.QUOTAS]
        lines.append(leftovers_problem(rtype, entry.leftovers, resources) or "")
        if rtype not in COST_TYPES:
            lines.append(f"{rtype}: no cost entry in tools/cost_types.toml")
        if ("iam:PassRole" in entry.actions) != (entry.passes_role_to is not None):
            lines.append(f"{rtype}: iam:PassRole and passes_role_to disagree in {HOME}")
    return [line for line in lines if line]


def test_the_stacks_built_here_have_every_fact(stacks: dict[str, Synth], variant: Synth) -> None:
    types = set().union(*(stack_types(s.json) for s in [*stacks.values(), variant]))
    assert len(types) > 50
    assert problems(types) == []


def test_the_synthesized_labels_have_every_fact() -> None:
    paths = {path.parts[-4]: path for path in sorted(SYNTH.glob("*/stacks/*/cdk.tf.json"))}
    if not paths:
        assert os.environ.get("TAP_SCAN_REQUIRED") != "1", f"no synthesized stacks in {SYNTH}"
        pytest.skip(f"no synthesized stacks in {SYNTH}: run `make synth-profiles`")
    assert LABELS <= set(paths)
    types = set().union(*(stack_types(json.loads(p.read_text(encoding="utf-8")))
                          for p in paths.values()))
    assert {"aws_sqs_queue", "aws_scheduler_schedule", "data.aws_vpc"} <= types  # dev-app, byon
    assert problems(types) == []


def test_a_type_without_its_facts_is_named_with_each_missing_fact() -> None:
    document: dict[str, Any] = json.loads(MADE_UP.read_text(encoding="utf-8"))
    types = stack_types(document)
    assert types == {"aws_vpc", "aws_made_up_gadget", "data.aws_caller_identity",
                     "data.aws_made_up_zone"}
    assert problems(types) == [
        f"aws_made_up_gadget: no entry in {HOME} (its service, bootstrap actions, whether it "
        "is stateful, its quota rows and how its leftovers are found)",
        f"data.aws_made_up_zone: no bootstrap actions in {HOME} (DATA_SOURCES)"]
    # An entry that lacks facts: each is named.
    half = ResourceType(service="widgets", actions=(), leftovers="gadget", arn=None,
                        quotas=("Gadgets",), passes_role_to="gadgets.amazonaws.com")
    assert problems(types, {**RESOURCES, "aws_made_up_gadget": half}) == [
        f"data.aws_made_up_zone: no bootstrap actions in {HOME} (DATA_SOURCES)",
        f"aws_made_up_gadget: no bootstrap actions in {HOME}",
        f"aws_made_up_gadget: service 'widgets' is not in {HOME} LINKED_ROLES",
        "aws_made_up_gadget: quota row 'Gadgets' is not in tools/quotas.py QUOTAS",
        "aws_made_up_gadget: no leftovers lister 'gadget' in tests/e2e/leftovers.py",
        "aws_made_up_gadget: no cost entry in tools/cost_types.toml",
        f"aws_made_up_gadget: iam:PassRole and passes_role_to disagree in {HOME}"]
    orphan = ResourceType(service="ec2", actions=("ec2:CreateGadget",),
                          leftovers=resource_types.parent("aws_made_up_box"), arn=None)
    assert problems({"aws_made_up_gadget"}, {**RESOURCES, "aws_made_up_gadget": orphan}) == [
        f"aws_made_up_gadget: its leftovers' parent aws_made_up_box is not a type of {HOME}",
        "aws_made_up_gadget: no cost entry in tools/cost_types.toml"]


def test_every_entry_has_every_fact() -> None:
    # The types only some settings synthesize (HOSTED_ZONE_ID, DB_SNAPSHOT_IDENTIFIER...) too.
    assert problems(set(ACTIONS)) == []
    assert set(COST_TYPES) == set(RESOURCES)


def binding_types() -> set[str]:
    """The types lib/ can create: the provider binding modules its modules import (data
    sources as ``data.<type>``), and terraform_data (cdktf's DataResource)."""
    found: set[str] = set()
    for path in sorted((ROOT / "lib").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for module in re.findall(r"from cdktf_cdktf_provider_aws\.(\w+) import", text):
            if module != "provider":
                found.add(f"data.{module.removeprefix('data_')}" if module.startswith("data_aws_")
                          else f"aws_{module}")
        if re.search(r"\bDataResource\(", text):
            found.add("terraform_data")
    return found


def test_the_registry_holds_exactly_the_types_lib_can_create() -> None:
    assert binding_types() == set(ACTIONS)


def test_a_type_has_an_arn_kind_exactly_when_it_takes_tags() -> None:
    spec = importlib.util.find_spec(bindings.PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    package = Path(list(spec.submodule_search_locations)[0])
    taggable = {rtype for rtype in RESOURCES if rtype != "terraform_data" and "def tags_all" in (
        package / rtype.removeprefix("aws_") / "__init__.py").read_text(encoding="utf-8")}
    assert {rtype for rtype, entry in RESOURCES.items() if entry.arn} == taggable
    assert resource_types.types_of_arn("ec2:security-group") == (
        "aws_default_security_group", "aws_security_group")


def test_derived_tables() -> None:
    assert STATEFUL_TYPES == ("aws_kms_key", "aws_secretsmanager_secret",
                              "aws_cloudwatch_log_group", "aws_rds_cluster",
                              "aws_rds_cluster_instance", "aws_elasticache_serverless_cache",
                              "aws_s3_bucket")
    assert ACTIONS["data.aws_vpc"] == DATA_SOURCES["aws_vpc"].actions
    assert ACTIONS["aws_vpc"] == RESOURCES["aws_vpc"].actions
    assert resource_types.counted_in("Security groups") == ("aws_default_security_group",
                                                            "aws_security_group")
    assert quotas.QUOTAS["Aurora DB instances"].types == ("aws_rds_cluster_instance",
                                                          "aws_db_instance")
    # Every row counts something; the types the stack does not make are not registry types.
    assert all(row.types for row in quotas.QUOTAS.values())
    assert not {t for row in quotas.QUOTAS.values() for t in row.others} & set(RESOURCES)
    assert resource_types.passed_to({"aws_vpc", "aws_flow_log", "aws_ecs_service",
                                     "aws_ecs_task_definition"}) == [
        "ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
