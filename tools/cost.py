#!/usr/bin/env python
"""What an environment costs a month: line items and totals, idle and under a light load.

Usage: ``python -m tools.cost [--json] [--load-requests N --load-egress-gb G ...]
LABEL=STACK_JSON...`` where each STACK_JSON is a synthesized ``cdk.tf.json`` (``make cost``
passes every label of ``make synth-profiles``). Prints, as Markdown, a row per label (idle and
load totals, the biggest idle items), the load scenario's assumptions, each label's line items
and the price table; with ``--json`` the same as data: ``{"labels": {LABEL: {"profile", "idle_monthly_usd",
"load_monthly_usd", "items": [...]}}, "shared": {LABEL: {"idle_monthly_usd", "load_monthly_usd",
"among", "idle_monthly_usd_each"}}, "scenario": {...}, "prices_read": [...]}``.

Idle: the service at its desired count, Aurora paused where its minimum capacity is 0, the cache
at its engine's minimum, no traffic. Load: the ``Scenario`` of tools/cost_items.py (1 million
requests and 10 GB of CloudFront egress a month by default). Prices: tools/prices.toml (us-east-1
list prices, a 730-hour month, no free tier: free tiers are per account and shared). Resource
types: tools/cost_types.toml, priced or free with a reason, the same types as the registry
(lib/resource_types.py); the line items: tools/cost_items.py.

The shared stack (a label whose profile is ``shared``: lib/shared_stack.py) is what the
pull-request environments in the shared mode share; it is counted once per account and shown
apart: its monthly cost, and that cost divided among ``--shared-among`` environments (25 by
default: the open pull requests the issue counts). A shared-mode label's own total excludes it.

Exit codes: 1 when an input has a resource type the type table lacks (the message names it) or a
configuration the price table cannot price; 2 when an argument, a stack or a table is malformed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from lib.resource_types import HOME, RESOURCES
from tools.cost_items import PRICERS, REGION, Context, CostError, Item, Scenario, Stack

HERE = Path(__file__).resolve().parent
PRICES = HERE / "prices.toml"
TYPES = HERE / "cost_types.toml"
PRICE_FIELDS = ("description", "usd", "unit", "region", "source", "read")
CENT = Decimal("0.01")
TOP = 5  # biggest idle items shown per label in the summary
PLATFORM = "shared"  # the shared stack's profile (lib/profiles.py)
SHARED_AMONG = 25  # environments the shared stack's cost is divided among, by default


class TableError(Exception):
    """A malformed argument, stack or table (a message for the user, no traceback)."""


@dataclass(frozen=True, kw_only=True)
class Price:
    """One priced dimension of tools/prices.toml."""

    key: str
    description: str
    usd: Decimal
    unit: str
    region: str
    source: str
    read: date
    minimum: Decimal = Decimal(0)
    checked: str = ""


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One label's line items and what they cost."""

    label: str
    profile: str
    items: tuple[Item, ...]
    prices: dict[str, Price]
    rtypes: tuple[str, ...]  # the resource types of the stack

    def usd(self, item: Item, when: str) -> Decimal:
        return getattr(item, when) * self.prices[item.price].usd

    def total(self, when: str) -> Decimal:
        return sum((self.usd(item, when) for item in self.items), Decimal(0))


def load_prices(path: Path = PRICES) -> dict[str, Price]:
    """The price table; refuses an entry that lacks a field or has a source that is no URL."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TableError(f"price table {path}: {error}") from error
    prices = {}
    for key, entry in table.items():
        missing = [name for name in PRICE_FIELDS if entry.get(name) in (None, "")]
        if missing:
            raise TableError(f"price table {path}: {key} has no {', '.join(missing)}")
        if not str(entry["source"]).startswith("https://") or not isinstance(entry["read"], date):
            raise TableError(f"price table {path}: {key} needs an https source and a read date")
        prices[key] = Price(key=key, description=entry["description"], usd=Decimal(entry["usd"]),
                            unit=entry["unit"], region=entry["region"], source=entry["source"],
                            read=entry["read"], minimum=Decimal(entry.get("minimum", 0)),
                            checked=entry.get("checked", ""))
    return prices


def load_types(prices: dict[str, Price], path: Path = TYPES) -> dict[str, dict[str, Any]]:
    """The resource type table, checked against the price table and the pricers."""
    try:
        types = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TableError(f"type table {path}: {error}") from error
    for rtype, entry in types.items():
        if ("free" in entry) == ("priced" in entry) or \
                not (entry.get("free") or entry.get("quantity")):
            raise TableError(f"type table {path}: {rtype} needs a free reason, or priced keys and "
                             "a quantity")
        unknown = [key for key in entry.get("priced", []) if key not in prices]
        if unknown:
            raise TableError(f"type table {path}: {rtype} uses unknown prices {', '.join(unknown)}")
    priced = {rtype for rtype, entry in types.items() if "priced" in entry}
    if priced != set(PRICERS):
        raise TableError(f"type table {path} and tools/cost_items.py disagree on "
                         f"{', '.join(sorted(priced ^ set(PRICERS)))}")
    # The same types as the registry: every type the stack can synthesize is priced or free.
    disagree = [f"{rtype}: no cost entry in {path.name}" for rtype in sorted(RESOURCES)
                if rtype not in types]
    disagree += [f"{rtype}: not a type of {HOME}" for rtype in sorted(types)
                 if rtype not in RESOURCES]
    if disagree:
        raise TableError(f"type table {path}: {'; '.join(disagree)}")
    return types


def profile_of(document: dict[str, Any]) -> str:
    """The profile from the default AWS provider's ``Profile`` default tag ('' if none)."""
    providers = document.get("provider", {}).get("aws", [])
    for provider in providers if isinstance(providers, list) else [providers]:
        if not provider.get("alias"):
            for tags in provider.get("default_tags", []):
                return str(tags.get("tags", {}).get("Profile", ""))
    return ""


def unknown_types(documents: dict[str, dict[str, Any]], types: dict[str, Any]) -> list[str]:
    """Resource types of any input that the type table lacks, as 'type (labels)'."""
    found: dict[str, list[str]] = {}
    for label, document in documents.items():
        for rtype in document.get("resource", {}):
            if rtype not in types:
                found.setdefault(rtype, []).append(label)
    return [f"{rtype} ({', '.join(labels)})" for rtype, labels in sorted(found.items())]


def check_free(stack: Stack, rtype: str, entry: dict[str, Any]) -> None:
    """Refuse a resource of a free type whose attributes make it a priced variant."""
    for logical_id, block in stack.resources(rtype):
        wrong = [f"{name} = {block.get(name)}" for name, value in entry.get("only_if", {}).items()
                 if block.get(name) != value]
        wrong += [f"{name} is set" for name in entry.get("unless_set", []) if block.get(name)]
        if wrong:
            raise CostError(f"{rtype}.{logical_id} is not free ({'; '.join(wrong)}) and has no "
                            "price")


def estimate(label: str, document: dict[str, Any], prices: dict[str, Price],
             types: dict[str, dict[str, Any]], scenario: Scenario) -> Estimate:
    """The line items of one stack, every one on a price its type declares."""
    providers = document.get("provider", {}).get("aws", [])
    regions = {provider.get("region") for provider in
               (providers if isinstance(providers, list) else [providers])}
    if regions != {REGION}:
        raise CostError(f"{label}: providers in {', '.join(sorted(map(str, regions)))}; the price "
                        f"table is for {REGION} only")
    ctx = Context(stack=Stack(document), scenario=scenario,
                  minimums={key: price.minimum for key, price in prices.items()})
    items: list[Item] = []
    for rtype in sorted(document.get("resource", {})):
        if "free" in types[rtype]:
            check_free(ctx.stack, rtype, types[rtype])
            continue
        for logical_id, block in ctx.stack.resources(rtype):
            for item in PRICERS[rtype](ctx, (rtype, logical_id), block):
                if item.price not in types[rtype]["priced"]:
                    raise TableError(f"{rtype} priced on {item.price}, which its type entry lacks")
                items.append(item)
    items.sort(key=lambda item: (-item.idle * prices[item.price].usd,
                                 -item.load * prices[item.price].usd, item.resource, item.what))
    return Estimate(label=label, profile=profile_of(document), items=tuple(items), prices=prices,
                    rtypes=tuple(sorted(document.get("resource", {}))))


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):,}"


def quantity(value: Decimal) -> str:
    """A quantity as the tables show it: at most four decimals, no trailing zeros."""
    shown = f"{value.quantize(Decimal('0.0001'), ROUND_HALF_UP):,f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def biggest(estimate_: Estimate) -> str:
    """The ``TOP`` items of the largest idle cost (items come sorted by it)."""
    return ", ".join(f"{item.resource} {item.what} {money(estimate_.usd(item, 'idle'))}"
                     for item in estimate_.items[:TOP] if estimate_.usd(item, "idle"))


def read_dates(prices: dict[str, Price]) -> list[str]:
    return sorted({price.read.isoformat() for price in prices.values()})


def type_lines(estimates: list[Estimate], types: dict[str, dict[str, Any]]) -> list[str]:
    """The types of the inputs' resources: how each is priced, or why it is free."""
    present = sorted({rtype for e in estimates for rtype in e.rtypes})
    lines = ["| resource type | priced on | quantity, or why free |", "| --- | --- | --- |"]
    for rtype in present:
        entry = types[rtype]
        lines.append(f"| {rtype} | {', '.join(entry['priced']) if 'priced' in entry else 'free'} | "
                     f"{entry.get('quantity') or entry['free']} |")
    return lines


def shared_lines(estimates: list[Estimate], among: int) -> list[str]:
    """The shared stack apart: per account, and divided among ``among`` environments."""
    lines = []
    for e in estimates:
        if e.profile == PLATFORM:
            idle, loaded = e.total("idle"), e.total("load")
            lines.append(f"- shared ({e.label}): {money(idle)} a month idle ({money(loaded)} under "
                         f"the load below) per account, divided among {among} environments: "
                         f"{money(idle / among)} each idle, not in their own totals above")
    return [""] + lines if lines else []


def render(estimates: list[Estimate], scenario: Scenario, prices: dict[str, Price],
           types: dict[str, dict[str, Any]], shared_among: int = SHARED_AMONG) -> str:
    """The estimates as Markdown: summary, scenario, line items per label, types, prices."""
    lines = ["# What an environment costs", "",
             f"Monthly USD from each stack's synthesized JSON: us-east-1 list prices read "
             f"{', '.join(read_dates(prices))} (tools/prices.toml), a month of 730 hours, no free "
             "tier (free tiers are per account). Idle: the service at its desired count, Aurora "
             "paused where its minimum capacity is 0, the cache at its engine's minimum, no "
             "traffic. Load: the scenario below.", "",
             "| label | profile | idle USD/month | load USD/month | biggest idle items |",
             "| --- | --- | ---: | ---: | --- |"]
    lines += [f"| {e.label} | {e.profile} | {money(e.total('idle'))} | {money(e.total('load'))} | "
              f"{biggest(e)} |" for e in estimates]
    lines += shared_lines(estimates, shared_among)
    lines += ["", "## Load scenario", ""] + [f"- {line}" for line in scenario.lines()]
    lines += ["- the service stays at its desired count; idle, no log is ingested (Container "
              "Insights' performance events and flow logs of an idle environment are not counted); "
              "cross-AZ traffic, S3 and KMS requests are not counted (cents at this load)"]
    for e in estimates:
        lines += ["", f"## {e.label}", "",
                  "| resource | item | idle quantity | load quantity | unit | USD per unit | "
                  "idle USD | load USD |",
                  "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |"]
        for item in e.items:
            price = prices[item.price]
            lines.append(f"| {item.resource} | {item.what} | {quantity(item.idle)} | "
                         f"{quantity(item.load)} | {price.unit} | {price.usd} | "
                         f"{money(e.usd(item, 'idle'))} | {money(e.usd(item, 'load'))} |")
        lines.append(f"| **total** | | | | | | **{money(e.total('idle'))}** | "
                     f"**{money(e.total('load'))}** |")
    lines += ["", "## Resource types", ""] + type_lines(estimates, types)
    lines += ["", "## Prices", "",
              "| key | description | USD | unit | region | read | source | where the figure was "
              "read |",
              "| --- | --- | ---: | --- | --- | --- | --- | --- |"]
    lines += [f"| {p.key} | {p.description} | {p.usd} | {p.unit} | {p.region} | "
              f"{p.read.isoformat()} | {p.source} | {p.checked} |" for p in prices.values()]
    return "\n".join(lines)


def as_data(estimates: list[Estimate], scenario: Scenario,
            prices: dict[str, Price], shared_among: int = SHARED_AMONG) -> dict[str, Any]:
    """The estimates as JSON-ready data (dollars rounded to cents, quantities as strings); the
    shared stack also under ``shared``, with its cost per environment."""
    def cents(value: Decimal) -> float:
        return float(value.quantize(CENT, ROUND_HALF_UP))
    shared = {e.label: {"idle_monthly_usd": cents(e.total("idle")),
                        "load_monthly_usd": cents(e.total("load")), "among": shared_among,
                        "idle_monthly_usd_each": cents(e.total("idle") / shared_among)}
              for e in estimates if e.profile == PLATFORM}
    return {
        "labels": {e.label: {
            "profile": e.profile,
            "idle_monthly_usd": cents(e.total("idle")),
            "load_monthly_usd": cents(e.total("load")),
            "items": [{"resource": item.resource, "type": item.rtype, "item": item.what,
                       "price": item.price, "unit": prices[item.price].unit,
                       "usd_per_unit": str(prices[item.price].usd),
                       "idle_quantity": quantity(item.idle), "load_quantity": quantity(item.load),
                       "idle_monthly_usd": cents(e.usd(item, "idle")),
                       "load_monthly_usd": cents(e.usd(item, "load"))} for item in e.items],
        } for e in estimates},
        "shared": shared,
        "scenario": {item.name: str(getattr(scenario, item.name)) for item in fields(scenario)},
        "prices_read": read_dates(prices),
    }


def parse(pairs: list[str]) -> dict[str, Path]:
    """``LABEL=PATH`` arguments, in order."""
    found: dict[str, Path] = {}
    for pair in pairs:
        label, sep, path = pair.partition("=")
        if not sep or not label or not path:
            raise TableError(f"{pair!r} is not LABEL=STACK_JSON")
        if label in found:
            raise TableError(f"label {label!r} given twice")
        found[label] = Path(path)
    return found


def load(paths: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """The stack JSON of each label."""
    documents = {}
    for label, path in paths.items():
        if not path.is_file():
            raise TableError(f"{path} is missing (synthesize first)")
        try:
            documents[label] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise TableError(f"{path}: {error}") from error
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("stacks", nargs="+", metavar="LABEL=STACK_JSON",
                        help="a synthesized cdk.tf.json, labelled (dev=build/.../cdk.tf.json)")
    parser.add_argument("--json", action="store_true", help="print the estimates as JSON")
    parser.add_argument("--prices", type=Path, default=PRICES, help="the price table (TOML)")
    parser.add_argument("--shared-among", type=int, default=SHARED_AMONG, metavar="N",
                        help="environments the shared stack's cost is divided among "
                             f"(default {SHARED_AMONG})")
    for item in fields(Scenario):
        parser.add_argument(f"--load-{item.name.replace('_', '-')}", dest=item.name, type=Decimal,
                            default=item.default, help=item.metadata["text"])
    args = parser.parse_args(argv)
    scenario = Scenario(**{item.name: getattr(args, item.name) for item in fields(Scenario)})
    try:
        prices = load_prices(args.prices)
        types = load_types(prices)
        documents = load(parse(args.stacks))
        unknown = unknown_types(documents, types)
        if unknown:
            print(f"cost: no price or free entry for resource type(s): {'; '.join(unknown)} "
                  f"(add them to {TYPES.name})", file=sys.stderr)
            return 1
        estimates = [estimate(label, document, prices, types, scenario)
                     for label, document in documents.items()]
    except TableError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 2
    except CostError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 1
    if args.shared_among < 1:
        print(f"cost: --shared-among {args.shared_among}: at least one environment", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(as_data(estimates, scenario, prices, args.shared_among), indent=2))
    else:
        print(render(estimates, scenario, prices, types, args.shared_among))
    return 0


if __name__ == "__main__":
    sys.exit(main())
