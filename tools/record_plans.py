#!/usr/bin/env python
"""Records the plans that ``tests/tools/test_plan_check.py`` reads: real Terraform, on moto.

Usage: ``make record-plans`` (``python -m tools.record_plans [--out DIR]``; needs
``TF_CLI_CONFIG_FILE``, which the Makefile sets to the provider mirror). It

1. starts the emulator (``emulator/server.py``) with the e2e harness's environment
   (endpoint, dummy credentials, proxies on a closed port: nothing leaves loopback);
2. applies ``BASE`` in ``build/record-plans``: a KMS key, an S3 bucket, a log group, an SNS
   topic and a Secrets Manager secret (five resources, four of them stateful);
3. for each of ``SCENARIOS``, writes the changed configuration, runs ``terraform plan -out``
   against the applied state (nothing more is applied) and ``terraform show -json``;
4. writes each plan to ``OUT/<scenario>.json`` (default ``tests/tools/plans``), trimmed to
   what ``tools/plan_check.py`` reads (``trim``): a few hundred bytes instead of ~20 KB of
   attribute values, schemas and configuration.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from emulator.server import ROOT, Emulator
from tests.e2e.harness import Report, Run
from tests.e2e.run import network_guard

OUT = ROOT / "tests" / "tools" / "plans"
WORKDIR = ROOT / "build" / "record-plans"
Config = dict[str, Any]

BASE: Config = {
    "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws",
                                                  "version": "5.100.0"}}},
    "provider": {"aws": {"region": "us-east-1"}},
    "resource": {
        "aws_kms_key": {"data": {"description": "plan-check data key",
                                 "deletion_window_in_days": 7}},
        "aws_s3_bucket": {"logs": {"bucket": "plan-check-logs", "force_destroy": True}},
        "aws_cloudwatch_log_group": {"app": {"name": "/plan-check/app",
                                             "retention_in_days": 7}},
        "aws_sns_topic": {"alarms": {"name": "plan-check-alarms"}},
        "aws_secretsmanager_secret": {"db": {"name": "plan-check-db",
                                             "recovery_window_in_days": 0}},
    },
}


def _set(rtype: str, block: str, **values: Any) -> Callable[[Config], None]:
    return lambda config: config["resource"][rtype][block].update(values)


def _add(rtype: str, block: str, **values: Any) -> Callable[[Config], None]:
    return lambda config: config["resource"].setdefault(rtype, {}).update({block: values})


def _remove(rtype: str, name: str) -> Callable[[Config], None]:
    def change(config: Config) -> None:
        del config["resource"][rtype][name]
        if not config["resource"][rtype]:
            del config["resource"][rtype]
    return change


def _rename(rtype: str, old: str, new: str) -> Callable[[Config], None]:
    """Rename a resource and keep its state with a ``moved`` block."""
    def change(config: Config) -> None:
        blocks = config["resource"][rtype]
        blocks[new] = blocks.pop(old)
        config.setdefault("moved", []).append({"from": f"{rtype}.{old}", "to": f"{rtype}.{new}"})
    return change


def _forget(rtype: str, block: str) -> Callable[[Config], None]:
    """Remove a resource from the configuration with a ``removed`` block that keeps it."""
    def change(config: Config) -> None:
        _remove(rtype, block)(config)
        config.setdefault("removed", []).append({"from": f"{rtype}.{block}",
                                                 "lifecycle": {"destroy": False}})
    return change


# scenario -> its changes to BASE
SCENARIOS: dict[str, list[Callable[[Config], None]]] = {
    "no-changes": [],
    "create-and-update": [_set("aws_cloudwatch_log_group", "app", retention_in_days=14),
                          _set("aws_sns_topic", "alarms", tags={"Team": "platform"}),
                          _add("aws_sns_topic", "deploys", name="plan-check-deploys")],
    "replace-stateful": [_set("aws_s3_bucket", "logs", bucket="plan-check-logs-v2"),
                         _set("aws_cloudwatch_log_group", "app", name="/plan-check/web")],
    "replace-stateless": [_set("aws_sns_topic", "alarms", name="plan-check-alerts")],
    "replace-requested": [],
    "delete": [_remove("aws_secretsmanager_secret", "db"), _remove("aws_sns_topic", "alarms")],
    "move": [_rename("aws_s3_bucket", "logs", "access_logs"),
             _rename("aws_sns_topic", "alarms", "alerts")],
    "forget": [_forget("aws_secretsmanager_secret", "db")],
}
# scenario -> extra arguments of terraform plan
PLAN_ARGS: dict[str, list[str]] = {"replace-requested": ["-replace=aws_kms_key.data"]}


def trim(plan: dict[str, Any]) -> dict[str, Any]:
    """The parts of ``terraform show -json`` that the plan guard reads."""
    kept = []
    for entry in plan.get("resource_changes", []):
        item = {key: entry[key] for key in ("address", "previous_address", "mode", "type",
                                            "name", "action_reason") if key in entry}
        item["change"] = {key: entry["change"][key] for key in ("actions", "replace_paths")
                          if key in entry["change"]}
        kept.append(item)
    return {"format_version": plan["format_version"],
            "terraform_version": plan["terraform_version"], "resource_changes": kept}


def terraform(env: dict[str, str], *args: str) -> str:
    """Run terraform in WORKDIR; its output, or SystemExit with its errors."""
    result = subprocess.run(["terraform", *args, "-no-color"], cwd=WORKDIR, env=env,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"terraform {args[0]} exited {result.returncode}:\n{result.stderr}")
    return result.stdout


def write_config(config: Config) -> None:
    (WORKDIR / "main.tf.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


def record(env: dict[str, str], out: Path) -> None:
    """Apply BASE, then plan and show every scenario into ``out``."""
    write_config(BASE)
    terraform(env, "init", "-input=false")
    terraform(env, "apply", "-auto-approve", "-input=false")
    out.mkdir(parents=True, exist_ok=True)
    for name, changes in SCENARIOS.items():
        config = copy.deepcopy(BASE)
        for change in changes:
            change(config)
        write_config(config)
        terraform(env, "plan", "-input=false", f"-out={name}.tfplan",
                  *PLAN_ARGS.get(name, []))
        plan = json.loads(terraform(env, "show", "-json", f"{name}.tfplan"))
        (out / f"{name}.json").write_text(json.dumps(trim(plan), indent=1) + "\n",
                                          encoding="utf-8")
        print(f"recorded {out / name}.json", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the plans are written")
    args = parser.parse_args(argv)
    if not os.path.isfile(os.environ.get("TF_CLI_CONFIG_FILE", "")):
        print("record-plans: TF_CLI_CONFIG_FILE must name the provider mirror configuration "
              "(run through `make record-plans`)", file=sys.stderr)
        return 2
    WORKDIR.mkdir(parents=True, exist_ok=True)
    for stale in [*WORKDIR.glob("*.tfstate*"), *WORKDIR.glob("*.tfplan")]:
        stale.unlink()
    run = Run(Report(suffix="record-plans", life="-", network_guard=network_guard(),
                     backend="local"))  # for its environment only
    with Emulator(WORKDIR / "emulator.log") as emulator:
        run.emulator = emulator
        record(run.env(), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
