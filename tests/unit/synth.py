"""Synthesis helpers shared by the unit tests: build a stack, parse its JSON, find things.

``synthesize(environ)`` returns a ``Synth`` over the Terraform JSON of a TapStack built
from ``environ`` (and the TapStack itself, for its exposed attributes); ``parsed(stack)``
the same for any stack built here; ``written(path)`` one over a ``cdk.tf.json`` on disk.
Resources are found by construct path (``"network/vpc"``), which is stable across synths,
rather than by generated logical ids. Importing this module starts the jsii kernel: whoever
imports it installs the fast bindings loaders first (``lib.bindings.load``: tests/unit/
conftest.py does, for the tests and for ``make golden``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from cdktf import Aspects, TerraformStack, Testing

from lib.config import load_settings
from lib.tap_stack import TapStack


KEY_PATHS = {"data": "data/key/key", "logs": "network/logs-key/key",
             "alarms": "monitoring/alarms-key/key", "edge": "edge/logs-key/key",
             "global-alarms": "monitoring/global-alarms-key/key"}
SINGLE_KEY_PATHS = {"data": "key/key", "logs": "key/key", "alarms": "key/key",
                    "edge": "global-key/key", "global-alarms": "global-key/key"}


class Synth:
    """The parsed Terraform JSON of one stack."""

    def __init__(self, document: dict[str, Any], paths: Mapping[str, str],
                 stack: TerraformStack | None = None) -> None:
        self.json = document
        self.paths = dict(paths)  # logical id -> construct path below the stack (resource, data)
        self.stack = stack  # the construct tree, when this process built it

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        """All resources of a type, by logical id (empty when there are none)."""
        return self.json.get("resource", {}).get(rtype, {})

    def data(self, dtype: str) -> dict[str, dict[str, Any]]:
        """All data sources of a type, by logical id."""
        return self.json.get("data", {}).get(dtype, {})

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        """Outputs by Terraform name."""
        return self.json.get("output", {})

    def logical_id(self, rtype: str, path: str, kind: str = "resource") -> str:
        """The logical id of the one block of ``rtype`` whose construct path ends in ``path``."""
        blocks = self.json.get(kind, {}).get(rtype, {})
        matches = [lid for lid in blocks if self.paths.get(lid) == path]
        assert len(matches) == 1, f"{rtype} at {path}: found {matches} in {list(blocks)}"
        return matches[0]

    def at(self, rtype: str, path: str) -> dict[str, Any]:
        """The resource of ``rtype`` at construct ``path``."""
        return self.resources(rtype)[self.logical_id(rtype, path)]

    def ref(self, rtype: str, path: str, attribute: str = "id", kind: str = "resource") -> str:
        """The interpolation Terraform sees for an attribute of the block at ``path``."""
        prefix = "data." if kind == "data" else ""
        return f"${{{prefix}{rtype}.{self.logical_id(rtype, path, kind)}.{attribute}}}"

    def key_path(self, purpose: str) -> str:
        """The construct path of the KMS key that serves ``purpose`` (data, logs, alarms, edge,
        global-alarms): the tier's own key, or the environment's one key of its region where
        the profile has one per region (``Profile.single_key``: ``key`` and ``global-key``)."""
        if "key/key" in self.paths.values():
            return SINGLE_KEY_PATHS[purpose]
        return KEY_PATHS[purpose]

    def key_ref(self, purpose: str, attribute: str = "arn") -> str:
        """The interpolation of the key that serves ``purpose`` (see ``key_path``)."""
        return self.ref("aws_kms_key", self.key_path(purpose), attribute)

    def policy(self, rtype: str, path: str, field: str = "policy") -> dict[str, Any]:
        """A JSON policy attribute, parsed."""
        return json.loads(self.at(rtype, path)[field])


def synthesize(environ: Mapping[str, str]) -> Synth:
    """Synthesize a TapStack for ``environ`` (validated like main.py) and parse it."""
    return parsed(TapStack(Testing.app(), load_settings(environ)))


def parsed(stack: TerraformStack) -> Synth:
    """A stack built in this process, as Terraform JSON: ``to_terraform()`` without the "//"
    metadata is exactly what ``Testing.synth`` returns, once no aspect is registered (what
    Testing.synth runs first); the metadata gives the construct paths, in the same call."""
    assert not Aspects.of(stack).all and not Aspects.of(stack.node.root).all, \
        "aspects registered: synthesize with Testing.synth"
    return _parse(stack.to_terraform(), stack)


def written(path: Path) -> Synth:
    """The ``cdk.tf.json`` at ``path`` as ``cdktf synth`` wrote it."""
    return _parse(json.loads(path.read_text(encoding="utf-8")), None)


def _parse(config: dict[str, Any], stack: TerraformStack | None) -> Synth:
    """``config`` without its "//" metadata, and the construct paths (below the stack) of its
    resources and data sources by logical id, which that metadata held."""
    config.pop("//", None)
    paths = {}
    for kind in ("resource", "data"):
        for blocks in config.get(kind, {}).values():
            for logical_id, block in blocks.items():
                paths[logical_id] = block.pop("//")["metadata"]["path"].split("/", 1)[1]
    return Synth(config, paths, stack)
