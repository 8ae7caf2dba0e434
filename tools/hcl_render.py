"""What cdktf 0.21's HCL renderer (``cdktf synth --hcl``, the library's ``lib/hcl/render.js``)
writes wrong, repaired in its raw output, and what is left looked for in the written HCL.

- ``repair(text, terraform)``: one raw stack file (as the app writes it, before the CLI formats
  it) with REPAIRS made: the text, counts per kind, and the findings it cannot repair.
- ``scan(path)``: MISRENDERINGS in a written HCL file, one ``Finding`` per line.
- ``config_differences(expected, parsed)``: where a configuration parsed from HCL says
  something else than the JSON synth (the proof that a repair kept the meaning).
- ``template_literal``, ``string_literal``: HCL quoted literals of string values.

Plain text functions: no cdktf, no Terraform (tools/hcl.py runs those).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# What cdktf 0.21.0's renderer gets wrong, by the name the report counts it under.
REPAIRS = {
    # escapeQuotes() leaves a string with "${" as it is (terraform-cdk#3911): a JSON document
    # with a reference in it (a policy, a dashboard) comes out with its quotes unescaped.
    "string": "a string with an interpolation, its quotes and backslashes escaped",
    # renderTerraform() passes the names of the other attributes, not the attributes: the
    # terraform block gets `0 = "required_version"`; the value is in the stack's metadata.json.
    "terraform": "a terraform-block attribute written by its index, restored",
    # Terraform's JSON syntax takes these as strings; in HCL a quoted reference in
    # replace_triggered_by is an error, elsewhere deprecated (terraform-cdk#3365 notes it).
    "reference": "a quoted reference or keyword, unquoted",
    # A lifecycle's preconditions and postconditions come out as a list attribute of objects,
    # which Terraform refuses: they are blocks (open-constructs/cdk-terrain#313, item 3).
    "condition": "a lifecycle pre/postcondition written as a list item, rewritten as a block",
    # A provisioner is written by renderFuzzyJsonExpression(), which turns a string of digits
    # into a number; a local-exec environment is a map of strings (Terraform converts it back,
    # but the configuration would no longer say what the JSON says).
    "number": "a string of digits in a local-exec environment written as a number, quoted",
}
_CONDITION_LISTS = ("precondition", "postcondition")
MISRENDERINGS = (
    (re.compile(r"\[object Object\]"),
     "a nested block rendered as [object Object] (terraform-cdk#3630)"),
    (re.compile(r"^\s*# Warning: The following attribute is of an unexpected type"),
     "an attribute cdktf has no type for, written as a map where Terraform may want a block "
     "(cdktf 0.21's rendering of terraform-cdk#3630)"),
    (re.compile(r"[$#&]\{TfToken\["), "an unresolved cdktf token"),
    (re.compile(r"-(?:8\.109562\d*e\+298|1\.888154\d*e\+289)"),
     "an unresolved cdktf number token"),
    (re.compile(r"^\s*\d+\s*="), "an attribute written by its index (cdktf's renderTerraform)"),
)
_STRING_LINE = re.compile(r'^(?P<head>\s*(?:(?:[\w-]+|"[^"]*")\s*=\s*)?)"(?P<value>.*)"'
                          r'(?P<tail>,?)\s*$')
_REFERENCE_LISTS = ("depends_on", "replace_triggered_by", "ignore_changes")
_KEYWORDS = {"when": ("create", "destroy"), "on_failure": ("continue", "fail")}
_REFERENCE = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$")
# Where Terraform wants a reference or a keyword, not a value (compared bare).
_REFERENCE_KEYS = frozenset(_REFERENCE_LISTS + tuple(_KEYWORDS) + ("provider", "from", "to"))
_WRAPPED_REFERENCE = re.compile(r"^\$\{([A-Za-z_][\w.-]*)\}$")


@dataclass(frozen=True, kw_only=True)
class Finding:
    """Something wrong in a file, at a line; ``str()`` is the one-line report."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _sequence_end(text: str, index: int) -> int:
    """The index after the ``}`` closing the ``${``/``%{`` sequence whose body starts at
    ``index``, across nested braces and the quoted strings of the expression."""
    depth = 1
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _string_end(text, index + 1)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise ValueError("an interpolation that does not close")


def _string_end(text: str, index: int) -> int:
    """The index after the ``"`` closing the quoted string whose body starts at ``index``."""
    while index < len(text):
        if text[index] == "\\":  # an escape: the next character is not special
            index += 2
        elif text.startswith(("$${", "%%{"), index):
            index += 3
        elif text.startswith(("${", "%{"), index):
            index = _sequence_end(text, index + 2)
        elif text[index] == '"':
            return index + 1
        else:
            index += 1
    raise ValueError("a quoted string that does not close")


def template_literal(value: str) -> str:
    """The body of the HCL quoted template whose value is ``value``, a string that Terraform's
    JSON syntax reads as a template: quotes and backslashes escaped outside its ``${...}`` and
    ``%{...}`` sequences, which stay as they are, as do the escapes ``$${`` and ``%%{``."""
    return _map_template(value, sequence=lambda text: text,
                         literal=lambda char: {'"': '\\"', "\\": "\\\\"}.get(char, char))


def _map_template(value: str, sequence: Callable[[str], str],
                  literal: Callable[[str], str]) -> str:
    """``value`` with each ``${...}``/``%{...}`` sequence passed through ``sequence`` and each
    character outside them through ``literal``; the escapes ``$${`` and ``%%{`` kept as they
    are. ValueError when a sequence does not close."""
    out: list[str] = []
    index = 0
    while index < len(value):
        if value.startswith(("$${", "%%{"), index):
            out.append(value[index:index + 3])
            index += 3
        elif value.startswith(("${", "%{"), index):
            end = _sequence_end(value, index + 2)
            out.append(sequence(value[index:end]))
            index = end
        else:
            out.append(literal(value[index]))
            index += 1
    return "".join(out)


def string_literal(value: str) -> str:
    """A plain string as an HCL quoted literal (no template sequence in it)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


@dataclass(frozen=True, kw_only=True)
class Repaired:
    """The repaired text of one file, what was repaired, and what could not be."""

    text: str
    counts: dict[str, int]
    findings: list[Finding]


def repair(text: str, terraform: dict[str, Any], path: str = "cdk.tf") -> Repaired:
    """Repair what cdktf 0.21's renderer writes wrong (REPAIRS) in one raw stack file.

    The renderer writes one attribute, list item or block header per line, so the lines are
    read with the stack of what they are in. ``terraform`` is the stack's terraform block
    (metadata.json). A string without an interpolation is left as the renderer wrote it: it
    escapes its quotes (``\\"``) but not its backslashes, so a backslash before anything else
    is a finding (its value cannot be known), and a value holding ``\\"`` itself would come out
    as ``"`` (no string of this stack has a backslash).
    """
    counts: Counter[str] = Counter()
    findings: list[Finding] = []
    context: list[str] = []  # the headers of the blocks and lists the line is in
    heredoc = ""
    out: list[str] = []
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if heredoc:
            heredoc = "" if stripped == heredoc else heredoc
            out.append(line)
            continue
        condition = _condition_line(stripped, context)
        if condition is not None:
            counts["condition"] += stripped == "{"
            if condition:
                out.append(line[:len(line) - len(line.lstrip())] + condition)
            continue
        if match := re.search(r"<<-?(\w+)$", stripped):
            heredoc = match.group(1)
        elif stripped.endswith(("{", "[")):
            context.append(stripped[:-1].strip().removesuffix("=").strip())
        elif stripped in ("}", "},", "]", "],") and context:
            context.pop()
        fixed, kind, problem = _repair_line(line, context, terraform)
        if problem:
            findings.append(Finding(path=path, line=number, message=problem))
        if kind:
            counts[kind] += 1
        out.append(fixed)
    return Repaired(text="\n".join(out), counts=dict(sorted(counts.items())), findings=findings)


def _condition_line(stripped: str, context: list[str]) -> str | None:
    """A line of a lifecycle's condition list rewritten as blocks (updating ``context``):
    ``postcondition = [`` and ``]`` vanish ("") and each item's ``{`` opens a block; None for
    any other line."""
    opens = re.fullmatch(r"(\w+) = \[", stripped)
    if opens and opens.group(1) in _CONDITION_LISTS and context[-1:] == ["lifecycle"]:
        context.append(opens.group(1))
        return ""
    if context and context[-1] in _CONDITION_LISTS:
        if stripped == "{":
            context.append(f"{context[-1]} item")
            return f"{context[-2]} {{"
        if stripped in ("]", "],"):
            context.pop()
            return ""
    if context and context[-1].endswith(" item") and stripped in ("}", "},"):
        context.pop()
        return "}"
    return None


def _repair_line(line: str, context: list[str],
                 terraform: dict[str, Any]) -> tuple[str, str, str]:
    """One line repaired: (line, the REPAIRS kind or "", a finding or "")."""
    if context == ["terraform"] and (match := re.fullmatch(r'(\s*)\d+ = "([\w-]+)"', line)):
        name = match.group(2)
        if isinstance(terraform.get(name), str):
            return f"{match.group(1)}{name} = {string_literal(terraform[name])}", "terraform", ""
        return line, "", f"terraform.{name} is not a string in metadata.json: not restored"
    if context[-2:] == ['provisioner "local-exec"', "environment"] and (
            number := re.fullmatch(r'(\s*(?:[\w-]+|"[^"]*")\s*=\s*)(-?\d+)\s*', line)):
        return f'{number.group(1)}"{number.group(2)}"', "number", ""
    match = _STRING_LINE.match(line)
    return _repair_string(line, match, context) if match else (line, "", "")


def _repair_string(line: str, match: re.Match[str], context: list[str]) -> tuple[str, str, str]:
    """A line holding one quoted string (an attribute, a map entry or a list item) repaired."""
    head, value, tail = match.group("head"), match.group("value"), match.group("tail")
    key = head.strip().removesuffix("=").strip()
    inner = context[-1] if context else ""
    unquoted = (inner in _REFERENCE_LISTS and not head and _REFERENCE.match(value)) or (
        key == "provider" and len(context) == 1 and context[0].startswith(("resource ", "data "))
        and _REFERENCE.match(value)) or (
        key in _KEYWORDS and inner.startswith("provisioner ") and value in _KEYWORDS[key])
    kind, problem = ("reference", "") if unquoted else ("", "")
    fixed = f"{head}{value}{tail}" if unquoted else line
    if not unquoted and "${" in value:
        try:
            literal = template_literal(value)
            fixed, kind = f'{head}"{literal}"{tail}', ("string" if literal != value else "")
        except ValueError as error:
            problem = f"a string not repaired: {error}"
    elif not unquoted and re.search(r'\\(?!")', value):
        problem = ("a string with a backslash: cdktf escapes its quotes but not its "
                   "backslashes, so its value is ambiguous")
    return fixed, kind, problem


def scan(path: Path) -> list[Finding]:
    """The known mis-renderings (MISRENDERINGS) in one HCL file, one finding per line."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for pattern, message in MISRENDERINGS:
            if pattern.search(line):
                found.append(Finding(path=str(path), line=number, message=message))
                break
    return found


def _squeezed(expression: str) -> str:
    """An expression without the whitespace outside its quoted strings."""
    out: list[str] = []
    index = 0
    while index < len(expression):
        if expression[index] == '"':
            end = _string_end(expression, index + 1)
            out.append(expression[index:end])
            index = end
        else:
            out.append("" if expression[index].isspace() else expression[index])
            index += 1
    return "".join(out)


def squeeze_expressions(value: str) -> str:
    """A template string with the spacing of its ``${...}``/``%{...}`` sequences removed (the
    CLI's formatter respaces them: ``{"engine"`` becomes ``{ "engine"``); as it is when one
    does not close."""
    try:
        return _map_template(value, sequence=_squeezed, literal=lambda char: char)
    except ValueError:
        return value


def _normal(value: Any, key: str = "") -> Any:
    """A configuration value in the form both syntaxes share: without cdktf's ``//`` metadata;
    a block given once as an object (JSON) or as a one-item list (hcl2json's blocks); a bare
    reference where Terraform wants one (JSON writes ``aws_x.y``, hcl2json ``${aws_x.y}``);
    expressions without their spacing."""
    if isinstance(value, dict):
        return {name: _normal(item, name) for name, item in value.items() if name != "//"}
    if isinstance(value, list):
        if len(value) == 1 and isinstance(value[0], dict):
            return _normal(value[0], key)
        return [_normal(item, key) for item in value]
    if isinstance(value, str):
        wrapped = _WRAPPED_REFERENCE.match(value)
        return wrapped.group(1) if wrapped and key in _REFERENCE_KEYS else \
            squeeze_expressions(value)
    return value


def config_differences(expected: dict[str, Any], parsed: dict[str, Any]) -> list[str]:
    """Where a configuration parsed from HCL (@cdktf/hcl2json) says something else than the
    JSON synth ``expected``: one line per value, ``path: what``."""
    out: list[str] = []

    def walk(want: Any, got: Any, path: str) -> None:
        if isinstance(want, dict) and isinstance(got, dict):
            for name in sorted(set(want) | set(got)):
                where = f"{path}.{name}" if path else name
                if name not in got:
                    out.append(f"{where}: in the JSON, not in the HCL")
                elif name not in want:
                    out.append(f"{where}: in the HCL, not in the JSON")
                else:
                    walk(want[name], got[name], where)
        elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
            for index, (one, other) in enumerate(zip(want, got)):
                walk(one, other, f"{path}[{index}]")
        elif want != got:
            out.append(f"{path}: JSON {json.dumps(want)[:100]}, HCL {json.dumps(got)[:100]}")

    walk(_normal(expected), _normal(parsed), "")
    return out
