"""The deployed outputs file: where it is, its two shapes, and the names the suite reads.

``load_outputs(path)`` returns ``(stack_name, values)`` for the shape that
``cdktf deploy --outputs-file`` / ``cdktf output --outputs-file`` write
(``{"TapStack<suffix>": {"vpc_id": ..., ...}}``) and for a flat map
(``{"vpc_id": ..., ...}``); ``terraform output -json`` entries
(``{"value": ..., "type": ..., "sensitive": ...}``) are unwrapped too. A file that is
missing or holds no outputs raises ``NoOutputs`` (the suite skips with its message);
one that cannot be read as outputs raises ``OutputsError`` (the suite fails).

``READ_OUTPUTS`` lists every output name the integration tests read. ``Outputs.require``,
``Outputs.require_list`` and ``Outputs.value`` (which allows an empty one) refuse any other
name, and a unit test proves that the synthesized stacks declare every one of them, so the
suite and the stack cannot drift apart (pitfall 19).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

OUTPUTS_FILE_VARIABLE = "TAP_OUTPUTS_FILE"
DEFAULT_OUTPUTS_FILE = "cfn-outputs/flat-outputs.json"
STACK_PREFIX = "TapStack"

# Every output the integration tests read: the contract's, plus isolated_subnet_ids,
# global_alarm_topic_arn and dashboard_name, which the stack also declares.
READ_OUTPUTS = (
    "vpc_id", "public_subnet_ids", "private_subnet_ids", "isolated_subnet_ids",
    "alb_arn", "alb_dns_name", "target_group_arn", "ecs_cluster_name", "ecs_service_name",
    "cloudfront_distribution_id", "cloudfront_domain_name", "waf_web_acl_arn",
    "aurora_cluster_identifier", "aurora_cluster_endpoint", "aurora_reader_endpoint",
    "db_secret_arn", "redis_cache_name", "redis_endpoint", "redis_secret_arn",
    "alarm_topic_arn", "global_alarm_topic_arn", "dashboard_name",
    "environment_suffix", "aws_region", "origin_verify_secret_arn", "vpc_origin_id",
    "viewer_certificate_arn", "viewer_url",
)
_TERRAFORM_ENTRY_KEYS = frozenset({"value", "type", "sensitive"})


class OutputsError(ValueError):
    """The outputs file exists but cannot be used; the message says why."""


class NoOutputs(OutputsError):
    """There is no deployment to test: the file is missing or holds no outputs."""


def outputs_path(environ: Mapping[str, str], root: Path) -> Path:
    """``TAP_OUTPUTS_FILE`` (relative to the working directory), else the default under ``root``."""
    value = environ.get(OUTPUTS_FILE_VARIABLE, "")
    return Path(value) if value else root / DEFAULT_OUTPUTS_FILE


def _is_terraform_entry(value: Any) -> bool:
    return isinstance(value, dict) and "value" in value and set(value) <= _TERRAFORM_ENTRY_KEYS


def _unwrap(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value["value"] if _is_terraform_entry(value) else value
            for name, value in values.items()}


def _select_stack(document: dict[str, Any], path: Path,
                  environ: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The one stack of a nested document (the suffix's stack when there are several)."""
    stacks = {name: values for name, values in document.items() if name.startswith(STACK_PREFIX)}
    if not stacks:
        raise OutputsError(f"{path}: nested outputs but no {STACK_PREFIX}<suffix> key "
                           f"(found {sorted(document)})")
    if len(stacks) > 1:
        wanted = STACK_PREFIX + environ.get("ENVIRONMENT_SUFFIX", "")
        if wanted not in stacks:
            raise OutputsError(f"{path}: several stacks {sorted(stacks)}; set "
                               f"ENVIRONMENT_SUFFIX to choose one")
        return wanted, stacks[wanted]
    return next(iter(stacks.items()))


def load_outputs(path: Path, environ: Mapping[str, str] | None = None,
                 ) -> tuple[str | None, dict[str, Any]]:
    """Read an outputs file of either shape; returns ``(stack_name, outputs)``.

    ``stack_name`` is the nested shape's key, or ``None`` for a flat map. Raises
    ``NoOutputs`` when the file is missing or empty, ``OutputsError`` when it is not
    an outputs document.
    """
    environ = os.environ if environ is None else environ
    if not path.is_file():
        raise NoOutputs(f"no deployment outputs: {path} does not exist (deploy with "
                        f"`cdktf deploy --outputs-file {DEFAULT_OUTPUTS_FILE}` or set "
                        f"{OUTPUTS_FILE_VARIABLE})")
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise NoOutputs(f"no deployment outputs: {path} is empty")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise OutputsError(f"{path}: not JSON ({error})") from error
    if not isinstance(document, dict):
        raise OutputsError(f"{path}: expected a JSON object, got {type(document).__name__}")
    nested = [name for name, value in document.items()
              if isinstance(value, dict) and not _is_terraform_entry(value)]
    if nested and len(nested) != len(document):
        raise OutputsError(f"{path}: mixes stacks {sorted(nested)} with flat outputs")
    stack_name, values = _select_stack(document, path, environ) if nested else (None, document)
    if not values:
        raise NoOutputs(f"no deployment outputs: {path} holds no outputs"
                        + (f" for {stack_name}" if stack_name else ""))
    return stack_name, _unwrap(values)


def as_list(name: str, value: Any) -> list[str]:
    """A list output, whether it arrived as a JSON list, a JSON-encoded list or ``a,b,c``."""
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError as error:
                raise OutputsError(f"output {name!r} is not a JSON list: {value!r}") from error
            return as_list(name, decoded)
        return [item.strip() for item in text.split(",") if item.strip()]
    raise OutputsError(f"output {name!r} should be a list, got {value!r}")


class Outputs:
    """The outputs of one deployed stack; every read goes through ``READ_OUTPUTS``."""

    def __init__(self, stack_name: str | None, values: Mapping[str, Any], source: Path) -> None:
        self.stack_name = stack_name
        self.values = dict(values)
        self.source = source

    def value(self, name: str) -> Any:
        """An output that may be empty (e.g. ``dashboard_name`` where the profile makes none);
        None when the file does not hold it."""
        if name not in READ_OUTPUTS:
            raise KeyError(f"{name!r} is not in READ_OUTPUTS; add it there so the unit test "
                           f"checks that the stack declares it")
        return self.values.get(name)

    def _get(self, name: str) -> Any:
        if self.value(name) in (None, ""):
            where = f" of {self.stack_name}" if self.stack_name else ""
            raise OutputsError(f"output {name!r} missing from {self.source}{where}")
        return self.values[name]

    def require(self, name: str) -> str:
        """A scalar output, as a string."""
        value = self._get(name)
        if isinstance(value, (list, dict)):
            raise OutputsError(f"output {name!r} should be a single value, got {value!r}")
        return str(value)

    def require_list(self, name: str) -> list[str]:
        """A list output (see ``as_list`` for the accepted forms)."""
        return as_list(name, self._get(name))
