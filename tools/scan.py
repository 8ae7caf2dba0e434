#!/usr/bin/env python
"""Security scan: checkov on the synthesized JSON of each profile, judged against an allow-list.

Usage: ``python -m tools.scan [--checkov BIN] [--out DIR] STACK_DIR...`` where each STACK_DIR holds
a ``cdk.tf.json`` (``make scan`` passes dev, pr4892 and prod). For each stack it

1. writes a scan copy to ``OUT/<label>/cdk.tf.json`` (the synthesized label: dev, pr4892,
   prod, dev-app): the same JSON without the scalar
   attributes of the top-level ``terraform`` block (``required_version``) and without the
   ``moved`` blocks, which checkov 3.3.30's ``terraform_json`` parser rejects ("this method
   receives only dicts") and which no check reads;
2. runs checkov with ``.checkov.yaml`` on it (``OUT/<suffix>/checkov.json``) and, when that
   file skips checks, once more with only the skipped checks to count what they would have
   judged (``OUT/<suffix>/skipped.json``); one process per stack, in parallel, so that no
   graph check sees two profiles' resources at once;
3. names every failed check's resource by its type and construct path (``ADDRESS`` below),
   which do not change between synths or environments, unlike checkov's names, which carry
   cdktf's hashed logical ids and lose the resource type (``resource.network_vpc_4E8F0223``);
4. compares the failures with ``tools/checkov-allowlist.toml`` and prints passed, failed,
   allowed (failed but in the allow-list) and skipped per stack.

Exit code 1 when a failure is not in the allow-list or an allow-list entry matches no
failure of a profile it names (stale); ``tests/tools/test_scan.py`` enforces the same on the JSON files.

ADDRESS is ``<type>.<construct path below the stack>``, e.g. ``aws_security_group.network/alb-sg``,
and ``data.<type>.<path>`` for data sources. An allow-list entry is
``{check, resource = ADDRESS, profiles = [...] (default: every profile), reason}``, where
profiles are profile names (``standard``, ``ephemeral``, ``production``, and ``shared`` for the
shared stack) read from the provider's ``Profile`` default tag; without ``profiles``, the three
environment profiles.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from lib.resource_types import ACTIONS, HOME

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".checkov.yaml"
ALLOWLIST = ROOT / "tools" / "checkov-allowlist.toml"
CHECKOV = ROOT / "build" / "checkov-venv" / "bin" / "checkov"
OUT = ROOT / "build" / "scan"
STACK_FILE = "cdk.tf.json"
REPORT_FILE = "checkov.json"
SKIPPED_FILE = "skipped.json"
PROFILES = ("standard", "ephemeral", "production", "shared")  # shared: lib/shared_stack.py
# An entry without profiles names these: every environment's (the shared stack is no
# environment, and its entries say so).
ENVIRONMENT_PROFILES = ("standard", "ephemeral", "production")
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
SKIP_LINE = re.compile(r"^\s+-\s*(\S+)\s*(?:#\s*(.*\S))?\s*$")


class ScanError(Exception):
    """The scan's inputs are not what it expects (a message for the user, no traceback)."""


@dataclass(frozen=True, order=True)
class Finding:
    """One failed check on one resource of one profile."""

    profile: str
    check: str
    resource: str  # ADDRESS
    name: str = ""  # checkov's description of the check


@dataclass(frozen=True)
class AllowEntry:
    """An accepted failure: ``check`` on ``resource`` in ``profiles``, for ``reason``."""

    check: str
    resource: str
    profiles: tuple[str, ...]
    reason: str

    def allows(self, finding: Finding) -> bool:
        return (finding.check, finding.resource) == (self.check, self.resource) and \
            finding.profile in self.profiles


@dataclass(frozen=True)
class Verdict:
    """The failures judged against the allow-list."""

    allowed: tuple[Finding, ...]
    unexpected: tuple[Finding, ...]  # failed and not in the allow-list
    stale: tuple[tuple[AllowEntry, str], ...]  # (entry, profile) with nothing to allow

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.stale


def scan_copy(document: dict[str, Any]) -> dict[str, Any]:
    """The stack JSON as checkov 3.3.30 can parse it: ``terraform`` keeps only its blocks, and
    the ``moved`` blocks (a list of addresses, which no check reads) are left out."""
    copy = {key: value for key, value in document.items() if key != "moved"}
    if isinstance(copy.get("terraform"), dict):
        copy["terraform"] = {k: v for k, v in copy["terraform"].items() if isinstance(v, dict)}
    return copy


def profile_of(document: dict[str, Any]) -> str:
    """The profile name, from the ``Profile`` default tag of the stack's first AWS provider."""
    try:
        providers = document["provider"]["aws"]
        provider = providers[0] if isinstance(providers, list) else providers
        profile = provider["default_tags"][0]["tags"]["Profile"]
    except (KeyError, IndexError, TypeError) as error:
        raise ScanError("the stack's AWS provider has no Profile default tag") from error
    if profile not in PROFILES:
        raise ScanError(f"unknown profile {profile!r} (expected one of {', '.join(PROFILES)})")
    return profile


def addresses(document: dict[str, Any]) -> dict[str, str]:
    """ADDRESS of every resource and data source, by cdktf logical id."""
    index: dict[str, str] = {}
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for rtype, blocks in document.get(kind, {}).items():
            for logical_id, block in blocks.items():
                path = block.get("//", {}).get("metadata", {}).get("path", logical_id)
                index[logical_id] = f"{prefix}{rtype}.{path.split('/', 1)[-1]}"
    return index


def address_of(checkov_resource: str, index: dict[str, str]) -> str:
    """ADDRESS for checkov's resource name (``resource.<id>``, ``<type>.<id>``, ``data.<id>``)."""
    logical_id = checkov_resource.split("[", 1)[0].rsplit(".", 1)[-1]
    if logical_id not in index:
        raise ScanError(f"checkov reported {checkov_resource!r}, which is not in the stack")
    return index[logical_id]


def results(report: dict[str, Any] | list[dict[str, Any]], outcome: str) -> list[dict[str, Any]]:
    """checkov's ``<outcome>_checks`` (passed, failed, skipped) of a JSON report."""
    reports = report if isinstance(report, list) else [report]
    found: list[dict[str, Any]] = []
    for part in reports:
        found.extend(part.get("results", {}).get(f"{outcome}_checks", []))
    return found


def findings(report: dict[str, Any], document: dict[str, Any]) -> list[Finding]:
    """The failed checks of a checkov report on ``document``, by ADDRESS."""
    profile, index = profile_of(document), addresses(document)
    return sorted({Finding(profile, item["check_id"], address_of(item["resource"], index),
                           item.get("check_name", "")) for item in results(report, "failed")})


def load_allowlist(text: str) -> list[AllowEntry]:
    """Parse and validate the allow-list (TOML: ``[[allow]]`` tables)."""
    entries: list[AllowEntry] = []
    for number, raw in enumerate(tomllib.loads(text).get("allow", []), start=1):
        unknown = set(raw) - {"check", "resource", "profiles", "reason"}
        profiles = tuple(raw.get("profiles", ENVIRONMENT_PROFILES))
        problems = [f"unknown keys {sorted(unknown)}"] if unknown else []
        if not CHECK_ID.match(str(raw.get("check", ""))):
            problems.append(f"check {raw.get('check')!r} is not a checkov id")
        address = re.match(r"^((?:data\.)?aws_\w+)\.\S+$", str(raw.get("resource", "")))
        if not address:
            problems.append(f"resource {raw.get('resource')!r} is not <type>.<construct path>")
        elif address.group(1) not in ACTIONS:
            problems.append(f"{address.group(1)} is not a type of {HOME}")
        if not profiles or set(profiles) - set(PROFILES):
            problems.append(f"profiles {list(profiles)} not among {list(PROFILES)}")
        if len(str(raw.get("reason", "")).strip()) < 10:
            problems.append("no reason")
        if problems:
            raise ScanError(f"allow-list entry {number}: " + "; ".join(problems))
        entries.append(AllowEntry(raw["check"], raw["resource"], profiles, raw["reason"].strip()))
    keys = [(entry.check, entry.resource) for entry in entries]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ScanError(f"allow-list entries repeated: {duplicates}")
    return entries


def load_skips(text: str) -> dict[str, str]:
    """The ``skip-check`` list of ``.checkov.yaml``: check id -> the reason beside it."""
    skips: dict[str, str] = {}
    inside = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            inside = line.split("#", 1)[0].strip() == "skip-check:"
            continue
        match = SKIP_LINE.match(line) if inside else None
        if inside and (match is None or not CHECK_ID.match(match.group(1)) or not match.group(2)):
            raise ScanError(f".checkov.yaml: skip without a check id and a reason: {line.strip()}")
        if match:
            skips[match.group(1)] = match.group(2)
    return skips


def judge(found: Iterable[Finding], allowlist: Iterable[AllowEntry],
          scanned: Iterable[str]) -> Verdict:
    """Split failures into allowed and unexpected; find entries stale in a scanned profile."""
    found, allowlist, scanned = list(found), list(allowlist), set(scanned)
    allowed = tuple(f for f in found if any(entry.allows(f) for entry in allowlist))
    unexpected = tuple(f for f in found if f not in allowed)
    stale = tuple((entry, profile) for entry in allowlist for profile in entry.profiles
                  if profile in scanned and
                  not any(entry.allows(f) for f in found if f.profile == profile))
    return Verdict(allowed, unexpected, stale)


def checkov_command(checkov: Path, directory: Path, only: Iterable[str] = ()) -> list[str]:
    """checkov on one directory: with ``.checkov.yaml``, or with only the checks ``only``."""
    only = sorted(only)
    selection = ["--framework", "terraform_json", "--skip-download", "--compact",
                 "--check", ",".join(only)] if only else ["--config-file", str(CONFIG)]
    return [str(checkov), *selection, "--directory", str(directory), "--output", "json"]


def run_checkov(jobs: dict[Path, list[str]]) -> None:
    """Run the checkov commands in parallel; each writes its JSON report to its path.

    Fails when checkov breaks or cannot parse a stack: a scan that judged nothing must not
    pass silently.
    """
    running = []
    for target, command in jobs.items():
        with target.open("w", encoding="utf-8") as stdout:
            running.append((target, command, subprocess.Popen(  # pylint: disable=consider-using-with
                command, stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=target.parent)))
    for target, command, process in running:
        _, stderr = process.communicate()
        # 0: nothing failed, 1: some check failed; anything else is checkov breaking.
        if process.returncode not in (0, 1):
            raise ScanError(f"{' '.join(command)} exited {process.returncode}: {stderr[-2000:]}")
        report = json.loads(target.read_text(encoding="utf-8") or "{}")
        parts = report if isinstance(report, list) else [report]
        errors = sum(part.get("summary", {}).get("parsing_errors", 0) for part in parts)
        if errors or (target.name == REPORT_FILE and not results(report, "passed")):
            raise ScanError(f"checkov parsed nothing in {command[-3]} ({errors} parsing errors)")


def summary(report: dict[str, Any], skipped_report: dict[str, Any] | None) -> dict[str, int]:
    """Counts of one stack: passed, failed, and skipped (by .checkov.yaml or inline)."""
    skipped = len(results(report, "skipped"))
    if skipped_report is not None:
        skipped += len(results(skipped_report, "passed")) + len(results(skipped_report, "failed"))
    return {"passed": len(results(report, "passed")), "failed": len(results(report, "failed")),
            "skipped": skipped}


def scan(stack_dirs: list[Path], out: Path, checkov: Path) -> tuple[str, Verdict]:
    """Scan the stacks; returns the printed table and the verdict."""
    skips = load_skips(CONFIG.read_text(encoding="utf-8"))
    allowlist = load_allowlist(ALLOWLIST.read_text(encoding="utf-8"))
    documents, jobs = {}, {}
    for stack_dir in stack_dirs:
        source = stack_dir / STACK_FILE
        if not source.is_file():
            raise ScanError(f"{source} is missing (synthesize first)")
        document = json.loads(source.read_text(encoding="utf-8"))
        suffix = label_of(stack_dir)
        target = out / suffix
        target.mkdir(parents=True, exist_ok=True)
        (target / STACK_FILE).write_text(json.dumps(scan_copy(document), indent=2), "utf-8")
        (target / SKIPPED_FILE).unlink(missing_ok=True)
        documents[suffix] = document
        jobs[target / REPORT_FILE] = checkov_command(checkov, target)
        if skips:
            jobs[target / SKIPPED_FILE] = checkov_command(checkov, target, skips)
    run_checkov(jobs)
    found: list[Finding] = []
    rows = ["| stack | profile | passed | failed | failed, allow-listed | skipped |",
            "| --- | --- | ---: | ---: | ---: | ---: |"]
    for suffix, document in documents.items():
        report = json.loads((out / suffix / REPORT_FILE).read_text(encoding="utf-8"))
        skipped_path = out / suffix / SKIPPED_FILE
        skipped = json.loads(skipped_path.read_text(encoding="utf-8")) if skips else None
        stack_findings = findings(report, document)
        found.extend(stack_findings)
        allowed = len(judge(stack_findings, allowlist, [profile_of(document)]).allowed)
        counts = summary(report, skipped)
        # "failed" counts what the stack must fix: checkov's failures less the allow-listed.
        rows.append(f"| {suffix} | {profile_of(document)} | {counts['passed']} | "
                    f"{len(stack_findings) - allowed} | {allowed} | {counts['skipped']} |")
    verdict = judge(found, allowlist, {profile_of(d) for d in documents.values()})
    lines = rows + [f"skipped by .checkov.yaml: {', '.join(sorted(skips)) or 'none'}"]
    lines += [f"NOT ALLOWED: {f.profile} {f.check} {f.resource} ({f.name})"
              for f in verdict.unexpected]
    lines += [f"STALE allow-list entry: {e.check} {e.resource} matches nothing in {profile}"
              for e, profile in verdict.stale]
    return "\n".join(lines), verdict


def label_of(stack_dir: Path) -> str:
    """The synthesized label of a stack directory (``build/synth/<label>/stacks/TapStack<x>``:
    ``dev-app`` is dev with the reference manifest), else the stack's suffix."""
    if stack_dir.parent.name == "stacks":
        return stack_dir.parent.parent.name
    return stack_dir.name.removeprefix("TapStack")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("stack_dirs", nargs="+", type=Path, help="directories with cdk.tf.json")
    parser.add_argument("--out", type=Path, default=OUT, help="reports go to OUT/<suffix>/")
    parser.add_argument("--checkov", type=Path, default=CHECKOV, help="the checkov executable")
    args = parser.parse_args(argv)
    try:
        table, verdict = scan(args.stack_dirs, args.out, args.checkov)
    except ScanError as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    print(table)
    print("scan: ok" if verdict.ok else "scan: FAILED (fix the stack, or allow-list with a reason)")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
