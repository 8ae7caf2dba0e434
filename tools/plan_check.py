#!/usr/bin/env python
"""Plan guard: refuse a Terraform plan that deletes or replaces a stateful resource.

Usage: ``python -m tools.plan_check [--chdir DIR] [--allow ADDRS] [--format markdown|text] PLAN``
(``make plan-check PLAN_JSON=path``). PLAN is the output of ``terraform show -json`` of a
saved plan (a file, or ``-`` for standard input), or the saved plan itself, which is shown
with ``terraform -chdir=DIR show -json PLAN`` (DIR: the initialized stack directory, e.g.
``cdktf.out/stacks/TapStackdev``). It prints

- the counts: create, update (in place), replace, delete, and move (a change with a
  ``previous_address``, which may come with any of the others); no-op and read are left out,
  and so is forget (a ``removed`` block with ``destroy = false``: the object is left alone;
  forget after a create, Terraform's replacement without destroy, counts as a create);
- a table of every change: address, type, action, the attributes that force a replacement
  (``change.replace_paths``) and whether the type is stateful (``lib.resource_types``);
- a one-line verdict.

Exit codes: 0 the plan may be applied; 1 a stateful resource would be deleted or replaced
(actions containing ``delete``) and its address is not allowed; 2 the input is not a plan
(one line on stderr), or an allowed address is not a stateful deletion or replacement of
this plan (a stale or mistyped permission must not pass silently).

Allowing: ``ALLOW_REPLACE=addr1,addr2`` in the environment, or ``--allow addr1,addr2``
(both add up), names the exact resource instance addresses of the plan that may go.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.resource_types import STATEFUL_TYPES

COUNTED = ("create", "update", "replace", "delete", "move")
# Terraform's action lists (show -json), by the word the report uses. "forget" (a `removed`
# block with destroy = false) drops the object from the state and leaves it alone.
ACTIONS = {("no-op",): "no-op", ("read",): "read", ("create",): "create",
           ("update",): "update", ("delete",): "delete", ("delete", "create"): "replace",
           ("create", "delete"): "replace", ("forget",): "forget",
           ("create", "forget"): "create, forget"}
ALLOW_ENV = "ALLOW_REPLACE"


class PlanError(Exception):
    """The input is not what the guard reads, or the permissions do not fit the plan."""


@dataclass(frozen=True)
class Change:
    """One resource change of the plan, as the guard sees it."""

    address: str
    rtype: str
    action: str  # a value of ACTIONS
    previous_address: str | None = None
    forcing: tuple[str, ...] = ()  # replace_paths, as Terraform expressions
    reason: str | None = None  # Terraform's action_reason

    @property
    def stateful(self) -> bool:
        return self.rtype in STATEFUL_TYPES

    @property
    def destroys(self) -> bool:
        """True when the plan deletes the object (delete, or replace: delete + create)."""
        return self.action in ("delete", "replace")

    @property
    def shown(self) -> bool:
        """No-op changes appear only when they move the resource."""
        return self.action != "no-op" or self.previous_address is not None


@dataclass(frozen=True)
class Verdict:
    """The changes judged against the permissions."""

    changes: tuple[Change, ...]
    blocked: tuple[Change, ...]  # stateful, destroyed, not allowed
    allowed: tuple[Change, ...]  # stateful, destroyed, allowed

    @property
    def ok(self) -> bool:
        return not self.blocked


def action_of(actions: list[str]) -> str:
    """One word for Terraform's action list (``["delete", "create"]`` is a replace)."""
    try:
        return ACTIONS[tuple(actions)]
    except (KeyError, TypeError):
        raise PlanError(f"unknown actions {actions}") from None


def path_text(path: list[Any]) -> str:
    """A replace path (``["tags", "Name"]``, ``["rule", 0, "id"]``) as Terraform writes it."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif text:
            text += f".{step}" if str(step).isidentifier() else f"[{json.dumps(step)}]"
        else:
            text = str(step)
    return text


def parse_change(entry: Any) -> Change | None:
    """A ``resource_changes`` entry as a Change; None for data sources (reads)."""
    excerpt = json.dumps(entry)[:120]
    if not isinstance(entry, dict):
        raise PlanError(f"a resource change is not an object: {excerpt}")
    try:
        if entry.get("mode", "managed") == "data":
            return None
        change = entry["change"]
        action = action_of(list(change["actions"]))
        return Change(address=str(entry["address"]), rtype=str(entry["type"]), action=action,
                      previous_address=entry.get("previous_address"),
                      forcing=tuple(path_text(p) for p in change.get("replace_paths") or []),
                      reason=entry.get("action_reason"))
    except KeyError as error:
        raise PlanError(f"a resource change lacks {error}: {excerpt}") from None
    except (AttributeError, TypeError) as error:
        raise PlanError(f"a resource change is malformed ({error}): {excerpt}") from None


def parse_plan(text: str) -> tuple[Change, ...]:
    """Every managed resource change of ``terraform show -json`` output."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(f"not JSON ({error})") from None
    if not isinstance(document, dict) or "format_version" not in document:
        raise PlanError("not the JSON of a plan (no format_version)")
    entries = document.get("resource_changes", [])
    if not isinstance(entries, list):
        raise PlanError("resource_changes is not a list")
    return tuple(change for change in map(parse_change, entries) if change is not None)


def read_plan(source: str, chdir: Path | None, terraform: str = "terraform") -> str:
    """The plan's JSON: the file (``-``: stdin), or ``terraform show -json`` of a saved plan."""
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PlanError(f"cannot read {source}: {error.strerror}") from None
    if not data.startswith(b"PK"):  # a saved plan is a zip archive; anything else is JSON
        return data.decode("utf-8", errors="replace")
    if chdir is None:
        raise PlanError(f"{source} is a saved plan: give the stack directory with --chdir")
    command = [terraform, f"-chdir={chdir}", "show", "-json", str(path.resolve())]
    try:
        shown = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise PlanError(f"cannot run {terraform}: {error.strerror}") from None
    if shown.returncode != 0:
        last = (shown.stderr.strip().splitlines() or ["no output"])[-1]
        raise PlanError(f"terraform show -json exited {shown.returncode}: {last}")
    return shown.stdout


def allowed_addresses(flag: str | None, environ: dict[str, str]) -> set[str]:
    """The addresses of ``--allow`` and ``ALLOW_REPLACE``, comma separated."""
    raw = f"{flag or ''},{environ.get(ALLOW_ENV, '')}"
    return {address.strip() for address in raw.split(",") if address.strip()}


def judge(changes: tuple[Change, ...], allow: set[str]) -> Verdict:
    """Block every stateful deletion or replacement that ``allow`` does not name."""
    destroyed = [c for c in changes if c.stateful and c.destroys]
    unknown = sorted(allow - {c.address for c in destroyed})
    if unknown:
        raise PlanError(f"{ALLOW_ENV} names {', '.join(unknown)}, which this plan does not "
                        "delete or replace as a stateful resource")
    return Verdict(changes=changes,
                   blocked=tuple(c for c in destroyed if c.address not in allow),
                   allowed=tuple(c for c in destroyed if c.address in allow))


def counts(changes: tuple[Change, ...]) -> dict[str, int]:
    """How many changes of each counted kind (a move counts apart from its action)."""
    tally = dict.fromkeys(COUNTED, 0)
    for change in changes:
        kind = "create" if change.action == "create, forget" else change.action
        if kind in tally:
            tally[kind] += 1
        if change.previous_address is not None:
            tally["move"] += 1
    return tally


def action_text(change: Change) -> str:
    """The action, with the move and Terraform's reason where they say more."""
    words = change.action if change.action != "no-op" else ""
    if change.previous_address is not None:
        words = f"{words}, moved from {change.previous_address}".lstrip(", ")
    if change.reason and change.action in ("replace", "delete"):
        words += f" ({change.reason})"
    return words


def stateful_text(change: Change, verdict: Verdict) -> str:
    if not change.stateful:
        return "no"
    if change in verdict.blocked:
        return "yes: BLOCKED"
    return "yes: allowed" if change in verdict.allowed else "yes"


def verdict_line(verdict: Verdict) -> str:
    """The one-line verdict."""
    if verdict.blocked:
        addresses = ",".join(c.address for c in verdict.blocked)
        return (f"BLOCKED: {len(verdict.blocked)} stateful resource(s) would be deleted or "
                f"replaced: {addresses}. If intended, allow them: {ALLOW_ENV}={addresses}")
    if verdict.allowed:
        return (f"OK: no stateful resource is deleted or replaced except the allowed "
                f"{', '.join(c.address for c in verdict.allowed)}")
    return "OK: no stateful resource is deleted or replaced"


def rows(verdict: Verdict) -> list[tuple[str, str, str, str, str]]:
    """The table's rows: address, type, action, forcing attributes, stateful."""
    return [(c.address, c.rtype, action_text(c), ", ".join(c.forcing) or "-",
             stateful_text(c, verdict)) for c in verdict.changes if c.shown]


def render_markdown(verdict: Verdict) -> str:
    """The report as Markdown, for a pull-request comment (it reads as well in a log)."""
    tally = counts(verdict.changes)
    lines = ["### Plan check", "", "| " + " | ".join(COUNTED) + " |",
             "| " + " | ".join("---:" for _ in COUNTED) + " |",
             "| " + " | ".join(str(tally[kind]) for kind in COUNTED) + " |", ""]
    table = rows(verdict)
    if table:
        lines += ["| address | type | action | forcing attributes | stateful |",
                  "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(_cell(cell, code=i in (0, 3) and cell != "-")
                                    for i, cell in enumerate(row)) + " |" for row in table]
        lines.append("")
    lines.append(f"**{verdict_line(verdict)}**")
    return "\n".join(lines)


def _cell(text: str, code: bool) -> str:
    """A table cell: pipes escaped, addresses and attributes as code."""
    text = text.replace("|", "\\|")
    return f"`{text}`" if code else text


def render_text(verdict: Verdict) -> str:
    """The report as plain text columns, for a terminal."""
    tally = counts(verdict.changes)
    lines = ["counts: " + ", ".join(f"{kind} {tally[kind]}" for kind in COUNTED)]
    table = rows(verdict)
    if table:
        header = ("address", "type", "action", "forcing attributes", "stateful")
        widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                  for row in [header, *table]]
    lines.append(verdict_line(verdict))
    return "\n".join(lines)


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("plan", help="terraform show -json output (- for stdin), or a saved plan")
    parser.add_argument("--chdir", type=Path, help="stack directory, to show a saved plan")
    parser.add_argument("--allow", help=f"addresses allowed to go, comma separated (adds to "
                                        f"${ALLOW_ENV})")
    parser.add_argument("--format", choices=("markdown", "text"), default="markdown")
    parser.add_argument("--terraform", default="terraform", help="the terraform executable")
    args = parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    try:
        changes = parse_plan(read_plan(args.plan, args.chdir, args.terraform))
        verdict = judge(changes, allowed_addresses(args.allow, environ))
    except PlanError as error:
        print(f"plan-check: {error}", file=sys.stderr)
        return 2
    print(render_markdown(verdict) if args.format == "markdown" else render_text(verdict))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
