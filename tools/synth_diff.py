#!/usr/bin/env python
"""Compare two synthesized stacks, modulo the addresses that ``moved`` blocks carry.

Usage: ``tools/synth_diff.py OLD.json NEW.json [OLD.json NEW.json ...]``: each pair is the
``cdk.tf.json`` of one stack before and after a refactor. The NEW stack's ``moved`` blocks
(``{"from": "aws_x.old_id", "to": "aws_x.new_id"}``, written by cdktf's ``move_from_id``)
say which resources changed address; every other difference is a change of configuration.

The comparison renames, in OLD, every moved resource's logical id and every reference to it
(``aws_x.old_id`` inside ``${...}`` interpolations, ``depends_on`` lists included), drops both
stacks' ``//`` metadata (construct paths, which a move changes by definition) and NEW's
``moved`` blocks, and then requires the two documents to be equal. Data sources hold no state
and need no moved block: one that is in OLD only is paired with one of its type in NEW only
whose configuration is the same, and renamed like a moved resource. It prints one line per
difference (a JSON path and both values, shortened) and exits 1 when there is any, 0
otherwise; 2 for unreadable input. A move whose source is not in OLD is a difference too.

Used to prove that a refactor (the tier re-cut) changed addresses only, and that a feature
left a configuration without it byte-identical.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

ADDRESS = re.compile(r"^(?P<type>[a-z0-9_]+)\.(?P<id>[^.\s\[]+)$")
SHOWN = 160  # characters of a value shown in a difference


def load(path: str) -> dict[str, Any]:
    """A ``cdk.tf.json``; raises ValueError with the path on bad input."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a JSON object")
    return document


def moves(document: dict[str, Any]) -> dict[str, str]:
    """The ``moved`` blocks of a stack: old address -> new address."""
    blocks = document.get("moved", [])
    return {block["from"]: block["to"] for block in blocks}


def _strip(value: Any) -> Any:
    """``value`` without ``//`` metadata keys at any depth."""
    if isinstance(value, dict):
        return {key: _strip(item) for key, item in value.items() if key != "//"}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def _rename_text(text: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?=[.\[\s}}\"]|$)", new, text)
    return text


def _rename(value: Any, renames: dict[str, str]) -> Any:
    """Every string in ``value`` with the moved addresses renamed."""
    if isinstance(value, dict):
        return {key: _rename(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_rename(item, renames) for item in value]
    if isinstance(value, str):
        return _rename_text(value, renames)
    return value


def normalized(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any],
                                                                  list[str]]:
    """Both documents ready to compare, and the moves whose source OLD lacks."""
    renames = moves(new)
    missing = []
    old = _strip(old)
    resources = old.get("resource", {})
    for source, target in renames.items():
        src, dst = ADDRESS.match(source), ADDRESS.match(target)
        if src is None or dst is None or src["type"] != dst["type"] \
                or src["id"] not in resources.get(src["type"], {}):
            missing.append(f"moved {source} -> {target}: no such resource in OLD")
            continue
        blocks = resources[src["type"]]
        blocks[dst["id"]] = blocks.pop(src["id"])
    old = _rename(old, renames)
    new = {key: value for key, value in _strip(new).items() if key != "moved"}
    return _pair_data_sources(old, new), new, missing


def _pair_data_sources(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """OLD with each data source that NEW has under another name (same type, same
    configuration) renamed, references included; repeated while renames reveal more."""
    while True:
        renames = {}
        for dtype, blocks in old.get("data", {}).items():
            fresh = new.get("data", {}).get(dtype, {})
            gone = {key: value for key, value in blocks.items() if key not in fresh}
            added = {key: value for key, value in fresh.items() if key not in blocks}
            for old_id, config in gone.items():
                match = next((new_id for new_id, other in added.items() if other == config
                              and new_id not in renames.values()), None)
                if match is not None:
                    renames[f"data.{dtype}.{old_id}"] = f"data.{dtype}.{match}"
        if not renames:
            return old
        for source, target in renames.items():
            _, dtype, old_id = source.split(".")
            blocks = old["data"][dtype]
            blocks[target.split(".")[2]] = blocks.pop(old_id)
        old = _rename(old, renames)


def differences(old: Any, new: Any, path: str = "") -> Iterator[str]:
    """One line per difference between two JSON values."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            where = f"{path}.{key}" if path else key
            if key not in new:
                yield f"{where}: only in OLD: {_short(old[key])}"
            elif key not in old:
                yield f"{where}: only in NEW: {_short(new[key])}"
            else:
                yield from differences(old[key], new[key], where)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new)):
            yield from differences(before, after, f"{path}[{index}]")
    elif old != new:
        yield f"{path}: {_short(old)} != {_short(new)}"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def compare(old_path: str, new_path: str) -> list[str]:
    """The differences between two stacks modulo moves (empty: the same configuration)."""
    old, new, missing = normalized(load(old_path), load(new_path))
    return [*missing, *differences(old, new)]


def main(argv: list[str]) -> int:
    """Compare each OLD NEW pair; exit 1 on any difference."""
    if not argv or len(argv) % 2:
        print("usage: synth_diff.py OLD.json NEW.json [OLD.json NEW.json ...]", file=sys.stderr)
        return 2
    found = False
    for old_path, new_path in zip(argv[::2], argv[1::2]):
        try:
            lines = compare(old_path, new_path)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        count = len(moves(load(new_path)))
        if lines:
            found = True
            print(f"{new_path}: {len(lines)} differences beyond {count} moves")
            print("\n".join(f"  {line}" for line in lines))
        else:
            print(f"{new_path}: the same configuration as {old_path}, {count} moves")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
