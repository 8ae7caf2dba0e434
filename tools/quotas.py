#!/usr/bin/env python
"""Quota ledger: how many environments of each profile fit in one AWS account at default quotas.

Usage: ``python -m tools.quotas [--beside dev prod] LABEL=STACK_JSON...`` where each
STACK_JSON is a synthesized ``cdk.tf.json`` (``make quotas`` passes every synthesized label).
For every quota-bound resource type in ``QUOTAS`` (which types count in which row: the
registry of types, ``lib/resource_types.py``) it prints, as a Markdown table: the count per
environment, AWS's default quota, whether that quota is adjustable or hard, its scope, and how
many environments of each label fit in a NEW account beside one of each ``--beside`` label
(default: one dev and one prod). A new account-region starts with its default VPC, that VPC's
internet gateway and its default security group (``BASELINE``): they count. A summary follows:
the binding (smallest) bound for each ephemeral label, the rows below the goal of issue 13
(``GOAL`` ephemeral environments), and the hard quotas that bind below ``HARD_GOAL``.

The shared stack (a label whose profile is ``shared``, lib/shared_stack.py) is counted once,
beside one of each ``--beside`` label, and gets no fit of its own. A label in the shared mode
(default tag ``Tenancy=shared``) is held to issue 26's goal instead: at least ``SHARED_GOAL``
fit, with nothing binding below it but Fargate's vCPU (capacity quotas any fleet raises), and
its summary says how much Fargate vCPU ``SHARED_GOAL`` of them need beside the others, as the
one request that raises it.

Counting rules:

* Per-Region quotas count a resource in the Region of its provider (the stack's Region, or
  ``us-east-1`` for the aliased provider of CloudFront, WAF and their logs); per-AZ quotas count
  per Availability Zone index of the subnet; per-account quotas count everything.
* Fargate vCPU is task CPU / 1024 times the tasks that can run on each capacity provider, at the
  service's maximum scale (``aws_appautoscaling_target.max_capacity``); the cell also shows the
  figure at ``desired_count``. The fit uses the maximum: a quota that holds only at rest fails
  exactly when the services scale out under load, and then no task starts. Tasks beyond a
  strategy's bases are split by weight, rounded up per provider: a task the weights split
  unevenly may land on either, so each provider's figure is an upper bound.
* Manual DB cluster snapshots: a cluster with a final snapshot leaves one per destroy, which
  accumulates until someone deletes it; the count is "per destroy".
* Per shared load balancer: the listener rules and target groups of rules on a listener the
  stack does not make (the shared one); a stack's rules on its own load balancer's listeners
  never add up across environments and are not counted. Per shared user group: the
  environments' user group associations, and one user (``default``) per group the stack makes.

Exit code 2 when an argument or a stack is not what the ledger expects.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

from lib.regions import DEFAULT_REGION
from tools.quota_table import ADJUSTABLE, QUOTAS, SCOPES, Quota

GOAL = 25  # ephemeral environments beside one dev and one prod (issue 13)
SHARED_GOAL = 60  # pull-request environments on the shared pieces (issue 26)
HARD_GOAL = 100  # no hard quota may bind below this many ephemeral environments
DEFAULT_BESIDE = ("dev", "prod")
PLATFORM = "shared"  # the shared stack's Profile tag (lib/profiles.py)
FARGATE_ROWS = {"Fargate On-Demand vCPU": "L-3032A538", "Fargate Spot vCPU": "L-36FBB829"}


# What a new account-region already holds: its default VPC, with an internet gateway and a
# default security group.
BASELINE = {"VPCs": 1, "Internet gateways": 1, "Security groups": 1}

AZ_INDEX = re.compile(r"names,\s*(\d+)\s*\)")
REFERENCE = re.compile(r"\$\{(aws_\w+)\.([\w-]+)\.")

Usage = dict[str, Fraction]  # usage by scope key (account, Region, Region/AZ)


class LedgerError(Exception):
    """The ledger's inputs are not what it expects (a message for the user, no traceback)."""


@dataclass(frozen=True)
class Measured:
    """What one environment uses of one quota: the figure the fit uses, and what the cell shows."""

    usage: Usage
    shown: str


def number(value: Fraction) -> str:
    """A count or vCPU figure as the table shows it: 3, 0.25, 13.5."""
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def regions(document: dict[str, Any]) -> dict[str, str]:
    """Region of each AWS provider: ``aws`` for the default one, ``aws.<alias>`` for aliases."""
    providers = document.get("provider", {}).get("aws", [])
    providers = providers if isinstance(providers, list) else [providers]
    found = {}
    for provider in providers:
        key = f"aws.{provider['alias']}" if provider.get("alias") else "aws"
        found[key] = provider.get("region", DEFAULT_REGION)
    if "aws" not in found:
        raise LedgerError("the stack has no default AWS provider")
    return found


def default_tag(document: dict[str, Any], key: str) -> str:
    """A default tag of the default AWS provider ('' if none)."""
    providers = document.get("provider", {}).get("aws", [])
    for provider in providers if isinstance(providers, list) else [providers]:
        if not provider.get("alias"):
            for tags in provider.get("default_tags", []):
                return str(tags.get("tags", {}).get(key, ""))
    return ""


def profile_of(document: dict[str, Any]) -> str:
    """The profile name from the default AWS provider's ``Profile`` default tag ('' if none)."""
    return default_tag(document, "Profile")


def resources(document: dict[str, Any], types: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, block) of every resource of ``types``."""
    found = []
    for rtype in types:
        found.extend(document.get("resource", {}).get(rtype, {}).items())
    return found


def key_of(document: dict[str, Any], block: dict[str, Any], scope: str) -> str:
    """The scope key a resource counts under: account, its Region, or Region/AZ index."""
    if scope == "account":
        return "account"
    region = regions(document).get(block.get("provider", "aws"), "?")
    if scope == "region":
        return region
    subnet = REFERENCE.search(str(block.get("subnet_id", "")))
    zone = ""
    if subnet:
        zone = str(document["resource"].get(subnet.group(1), {}).get(subnet.group(2), {})
                   .get("availability_zone", ""))
    index = AZ_INDEX.search(zone)
    return f"{region}/az{index.group(1)}" if index else f"{region}/{zone or '?'}"


def tasks_on(provider: str, strategy: list[dict[str, Any]], tasks: int) -> int:
    """Upper bound of the tasks ``strategy`` places on ``provider`` when ``tasks`` run."""
    if not strategy:
        return tasks if provider == "FARGATE" else 0
    mine = [item for item in strategy if item["capacity_provider"] == provider]
    if not mine:
        return 0
    base = min(tasks, int(mine[0].get("base", 0)))
    rest = max(0, tasks - sum(int(item.get("base", 0)) for item in strategy))
    weights = sum(int(item.get("weight", 0)) for item in strategy)
    share = math.ceil(Fraction(rest * int(mine[0].get("weight", 0)), weights)) if weights else 0
    return base + share


def service_tasks(document: dict[str, Any], logical_id: str,
                  service: dict[str, Any]) -> tuple[Fraction, int, int, list[dict[str, Any]]]:
    """(vCPU per task, desired count, maximum count, capacity provider strategy) of a service."""
    task = REFERENCE.search(str(service.get("task_definition", "")))
    if task is None or task.group(1) != "aws_ecs_task_definition":
        raise LedgerError(f"service {logical_id} names no task definition of the stack")
    definition = document["resource"]["aws_ecs_task_definition"].get(task.group(2))
    if definition is None or "cpu" not in definition:
        raise LedgerError(f"task definition {task.group(2)} has no cpu")
    desired = int(service.get("desired_count", 1))
    maximum = desired
    for _, target in resources(document, ["aws_appautoscaling_target"]):
        if f"aws_ecs_service.{logical_id}." in str(target.get("resource_id", "")):
            maximum = max(desired, int(target["max_capacity"]))
    strategy = service.get("capacity_provider_strategy") or []
    if not strategy and "launch_type" not in service:  # the cluster's default strategy applies
        for _, providers in resources(document, ["aws_ecs_cluster_capacity_providers"]):
            strategy = providers.get("default_capacity_provider_strategy") or strategy
    return Fraction(int(definition["cpu"]), 1024), desired, maximum, list(strategy)


def on_shared_listeners(document: dict[str, Any], types: Iterable[str]) -> list[str]:
    """The listener rules of ``types`` on a listener the stack does not make (the shared load
    balancer's), and the target groups such rules forward to, by logical id."""
    own = set(document.get("resource", {}).get("aws_lb_listener", {}))
    shared_rules = {lid: rule for lid, rule in
                    document.get("resource", {}).get("aws_lb_listener_rule", {}).items()
                    if not (match := REFERENCE.search(str(rule.get("listener_arn", ""))))
                    or match.group(1) != "aws_lb_listener" or match.group(2) not in own}
    found = []
    if "aws_lb_listener_rule" in types:
        found += list(shared_rules)
    if "aws_lb_target_group" in types:
        forwarded = {match.group(2) for rule in shared_rules.values()
                     for match in REFERENCE.finditer(json.dumps(rule.get("action", [])))
                     if match.group(1) == "aws_lb_target_group"}
        found += sorted(forwarded)
    return found


def measure(document: dict[str, Any], row: Quota) -> Measured:
    """What the environment in ``document`` uses of the quota ``row``."""
    usage: Usage = {}
    if row.measure.startswith("fargate:"):
        provider = row.measure.split(":", 1)[1]
        at_desired = Fraction(0)
        for logical_id, service in resources(document, row.types):
            if service.get("launch_type", "FARGATE") != "FARGATE":
                continue  # EC2 or EXTERNAL: no Fargate vCPU
            vcpu, desired, maximum, strategy = service_tasks(document, logical_id, service)
            key = key_of(document, service, row.scope)
            usage[key] = usage.get(key, Fraction(0)) + vcpu * tasks_on(provider, strategy, maximum)
            at_desired += vcpu * tasks_on(provider, strategy, desired)
        total = sum(usage.values(), Fraction(0))
        return Measured(usage, f"{number(total)} ({number(at_desired)} at desired)")
    if row.measure == "shared-listener":
        count = len(on_shared_listeners(document, row.types))
        return Measured({"shared": Fraction(count)} if count else {}, str(count))
    if row.measure == "user-group":
        # an association adds the environment's user; a group brings its user named default
        count = len(resources(document, row.types))
        return Measured({"shared": Fraction(count)} if count else {}, str(count))
    for _, block in resources(document, row.types):
        if any(str(block.get(name)) != value for name, value in row.where):
            continue
        if row.measure == "final-snapshots" and block.get("skip_final_snapshot", False) is True:
            continue
        key = key_of(document, block, row.scope)
        usage[key] = usage.get(key, Fraction(0)) + 1
    peak = max(usage.values(), default=Fraction(0))
    shown = number(peak) + (" per destroy" if row.measure == "final-snapshots" and peak else "")
    return Measured(usage, shown)


def used_in(row: Quota, name: str, beside: list[Usage], key: str) -> Fraction:
    """What the new account's baseline and the ``beside`` environments use in scope ``key``."""
    used = sum((usage.get(key, Fraction(0)) for usage in beside), Fraction(0))
    return used + (BASELINE.get(name, 0) if row.scope != "account" else 0)


def fit(row: Quota, name: str, beside: list[Usage], usage: Usage) -> int | None:
    """How many environments using ``usage`` fit beside the ``beside`` ones (None: no bound)."""
    if row.default is None:
        return None
    counts = [max(0, math.floor((row.default - used_in(row, name, beside, key)) / need))
              for key, need in usage.items() if need > 0]
    return min(counts, default=None)


def fullest(row: Quota, name: str, beside: list[Usage]) -> Fraction:
    """What the baseline and the ``beside`` environments use in the fullest scope key."""
    keys = {key for usage in beside for key in usage}
    return max((used_in(row, name, beside, key) for key in keys), default=Fraction(0))


@dataclass(frozen=True)
class Ledger:
    """The measured environments and the fits, ready to print."""

    labels: tuple[str, ...]
    beside: tuple[str, ...]  # one of each, the shared stack's among them
    profiles: dict[str, str]
    shared_mode: frozenset[str]  # labels on the shared pieces (default tag Tenancy=shared)
    cells: dict[str, dict[str, Measured]]  # row name -> label -> measured
    fits: dict[str, dict[str, int | None]]  # row name -> label -> fit

    def binding(self, label: str) -> tuple[int | None, list[str]]:
        """The smallest fit of ``label`` and the rows that set it."""
        bounds = [(fits[label], name) for name, fits in self.fits.items()
                  if fits[label] is not None]
        if not bounds:
            return None, []
        smallest = min(bound for bound, _ in bounds)
        return smallest, [name for bound, name in bounds if bound == smallest]


def build(documents: dict[str, dict[str, Any]], beside: tuple[str, ...] = DEFAULT_BESIDE) -> Ledger:
    """Measure every environment against every row of ``QUOTAS``; the shared stack (profile
    ``shared``) is counted once, beside the others."""
    missing = [label for label in beside if label not in documents]
    if missing:
        raise LedgerError(f"no stack labelled {', '.join(missing)} to fit the others beside")
    beside = tuple(beside) + tuple(label for label, document in documents.items()
                                   if profile_of(document) == PLATFORM and label not in beside)
    cells = {name: {label: measure(document, row) for label, document in documents.items()}
             for name, row in QUOTAS.items()}
    fits = {name: {label: fit(row, name, [cells[name][b].usage for b in beside],
                              cells[name][label].usage) for label in documents}
            for name, row in QUOTAS.items()}
    return Ledger(tuple(documents), beside, {label: profile_of(doc) for label, doc in documents.items()},
                  frozenset(label for label, doc in documents.items()
                            if default_tag(doc, "Tenancy") == "shared"), cells, fits)


def beside_text(ledger: Ledger) -> str:
    """'one dev and one prod', and 'the shared stack (shared) once' when there is one."""
    return " and ".join(f"the shared stack ({label}) once" if ledger.profiles[label] == PLATFORM
                        else f"one {label}" for label in ledger.beside)


def render(ledger: Ledger) -> str:
    """The ledger as a Markdown table and summary lines."""
    labels = ledger.labels
    beside = beside_text(ledger)
    header = (["resource", "quota (AWS name)", "scope", "default", "adjustable"] + list(labels) +
              [f"fit: {label}" for label in labels] + ["source"])
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join(["---"] * 5 + ["---:"] * (2 * len(labels)) + ["---"]) + " |"]
    for name, row in QUOTAS.items():
        default = "none" if row.default is None else f"{row.default:,}"
        cells = [name, row.quota, f"per {SCOPES[row.scope]}", default, ADJUSTABLE[row.adjustable]]
        cells += [ledger.cells[name][label].shown for label in labels]
        cells += ["once" if ledger.profiles[label] == PLATFORM else
                  "no limit" if ledger.fits[name][label] is None else str(ledger.fits[name][label])
                  for label in labels]
        lines.append("| " + " | ".join(cells + [row.url]) + " |")
    lines.append("")
    lines.append(f"Fit: environments of that label that fit in a new account-region (default VPC, "
                 f"its internet gateway and default security group included) beside {beside}, "
                 f"at default quotas. Fargate figures are vCPU at maximum scale (at desired count "
                 f"in brackets).")
    for name, row in QUOTAS.items():
        used = fullest(row, name, [ledger.cells[name][b].usage for b in ledger.beside])
        if row.default is not None and used > row.default:
            lines.append(f"- {beside} alone exceed {name}: {number(used)} of {row.default:,} "
                         f"per {SCOPES[row.scope]}.")
    ephemeral = [label for label in labels
                 if label not in ledger.beside and ledger.profiles[label] == "ephemeral"]
    for label in ephemeral or [label for label in labels if label not in ledger.beside]:
        lines.extend(summary(ledger, label))
    return "\n".join(lines)


def summary(ledger: Ledger, label: str) -> list[str]:
    """The summary lines of one label: binding bound, rows below the goals, the goal's verdict."""
    if label in ledger.shared_mode:
        return shared_summary(ledger, label)
    beside = beside_text(ledger)
    smallest, rows = ledger.binding(label)
    hard = sorted((fits[label], name) for name, fits in ledger.fits.items()
                  if QUOTAS[name].adjustable is not True and fits[label] is not None
                  and fits[label] < HARD_GOAL)
    short = sorted((fits[label], name) for name, fits in ledger.fits.items()
                   if fits[label] is not None and fits[label] < GOAL)
    kinds = ", ".join(f"{name} ({'adjustable' if QUOTAS[name].adjustable else 'HARD'})"
                      for name in rows)
    met = not short and not hard
    return [
        f"- **{label}**: " + ("no quota bounds it" if smallest is None else
                              f"{smallest} fit beside {beside}, bound by {kinds}") + ".",
        f"- **{label}**: below the goal of {GOAL}: "
        + (", ".join(f"{name} {count}" for count, name in short) or "none") + ".",
        f"- **{label}**: hard quotas binding below {HARD_GOAL}: "
        + (", ".join(f"{name} {count}" for count, name in hard) or "none") + ".",
        f"- **{label}**: goal of issue 13 (at least {GOAL} fit, no hard quota binds below "
        f"{HARD_GOAL}): {'met' if met else 'NOT met'}.",
    ]


def needed(ledger: Ledger, label: str, row: str, count: int) -> Fraction:
    """What ``count`` environments of ``label`` and the ``beside`` ones use of ``row`` in its
    fullest scope key."""
    usage = ledger.cells[row][label].usage
    beside = [ledger.cells[row][other].usage for other in ledger.beside]
    keys = set(usage) | {key for other in beside for key in other}
    return max((used_in(QUOTAS[row], row, beside, key) + count * usage.get(key, Fraction(0))
                for key in keys), default=Fraction(0))


def shared_summary(ledger: Ledger, label: str) -> list[str]:
    """A label on the shared pieces: the binding bound, what binds below ``SHARED_GOAL`` other
    than Fargate's vCPU, the hard quotas below ``HARD_GOAL``, the goal's verdict, and the
    Fargate vCPU ``SHARED_GOAL`` of them need (the one request that raises it)."""
    beside = beside_text(ledger)
    smallest, rows = ledger.binding(label)
    short = sorted((fits[label], name) for name, fits in ledger.fits.items()
                   if name not in FARGATE_ROWS and fits[label] is not None
                   and fits[label] < SHARED_GOAL)
    hard = sorted((fits[label], name) for name, fits in ledger.fits.items()
                  if QUOTAS[name].adjustable is not True and fits[label] is not None
                  and fits[label] < HARD_GOAL)
    others = [(fits[label], name) for name, fits in ledger.fits.items()
              if name not in FARGATE_ROWS and fits[label] is not None]
    first = min(others, default=None)
    requests = []
    for row, code in FARGATE_ROWS.items():
        need = needed(ledger, label, row, SHARED_GOAL)
        if need > (QUOTAS[row].default or 0):
            requests.append(
                f"{row} {number(need)} (default {QUOTAS[row].default}): `aws service-quotas "
                f"request-service-quota-increase --service-code fargate --quota-code {code} "
                f"--desired-value {math.ceil(need)}`")
    kinds = ", ".join(f"{name} ({'adjustable' if QUOTAS[name].adjustable else 'HARD'})"
                      for name in rows)
    met = not short and not hard
    return [
        f"- **{label}**: " + ("no quota bounds it" if smallest is None else
                              f"{smallest} fit beside {beside}, bound by {kinds}") + "; "
        + ("nothing else binds" if first is None else
           f"beyond Fargate's vCPU, {first[0]} ({first[1]})") + ".",
        f"- **{label}**: below the goal of {SHARED_GOAL} other than Fargate's vCPU: "
        + (", ".join(f"{name} {count}" for count, name in short) or "none") + ".",
        f"- **{label}**: hard quotas binding below {HARD_GOAL}: "
        + (", ".join(f"{name} {count}" for count, name in hard) or "none") + ".",
        f"- **{label}**: Fargate vCPU that {SHARED_GOAL} of them need beside {beside}, at "
        "maximum scale: " + ("; ".join(requests) or "within the default quotas") + ".",
        f"- **{label}**: goal of issue 26 (at least {SHARED_GOAL} fit on the shared pieces, "
        f"nothing but Fargate's vCPU binds below it, no hard quota below {HARD_GOAL}): "
        f"{'met' if met else 'NOT met'}.",
    ]


def parse(pairs: list[str]) -> dict[str, Path]:
    """``LABEL=PATH`` arguments, in order."""
    found: dict[str, Path] = {}
    for pair in pairs:
        label, sep, path = pair.partition("=")
        if not sep or not label or not path:
            raise LedgerError(f"{pair!r} is not LABEL=STACK_JSON")
        if label in found:
            raise LedgerError(f"label {label!r} given twice")
        found[label] = Path(path)
    return found


def load(paths: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """The stack JSON of each label."""
    documents = {}
    for label, path in paths.items():
        if not path.is_file():
            raise LedgerError(f"{path} is missing (synthesize first)")
        documents[label] = json.loads(path.read_text(encoding="utf-8"))
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("stacks", nargs="+", metavar="LABEL=STACK_JSON",
                        help="a synthesized cdk.tf.json, labelled (dev=build/.../cdk.tf.json)")
    parser.add_argument("--beside", nargs="+", default=list(DEFAULT_BESIDE), metavar="LABEL",
                        help="labels of which one each is deployed (default: dev prod)")
    args = parser.parse_args(argv)
    try:
        ledger = build(load(parse(args.stacks)), tuple(args.beside))
    except LedgerError as error:
        print(f"quotas: {error}", file=sys.stderr)
        return 2
    print(render(ledger))
    return 0


if __name__ == "__main__":
    sys.exit(main())
