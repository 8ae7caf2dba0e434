"""Scripts of tools/ that Terraform runs on the deploying machine, as ``local-exec``
provisioners: the release gate (tools/one_off.py), the shared cluster's databases and roles
(tools/shared_database.py), CloudFront's leftovers in a VPC (tools/vpc_origin_leftovers.py)
and IAM authentication after a restore (tools/restored_cluster.py).

Terraform copies each beside the stack as an asset; the shell runs it with ``$TAP_PYTHON``
(set by ``make deploy``'s tools/terraform_apply.py), else ``python3`` with boto3. Nothing here
imports jsii.
"""
from __future__ import annotations

from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def script(name: str) -> Path:
    """The path of tools/``name``."""
    return TOOLS / name


def python_command(path: str, *args: str) -> str:
    """The provisioner's command: the script at ``path`` (an asset's path) with ``args``.
    ``$$`` keeps Terraform from reading ``${...}`` as an interpolation: the shell expands it."""
    return " ".join(('"$${TAP_PYTHON:-python3}" "%s"' % path, *args))
