"""IAM and resource policy documents as JSON strings.

Documents are built with ``json.dumps`` so that tokens (``${aws_x.y.arn}``) stay plain
strings inside the JSON and Terraform fills them at apply; tests parse the same JSON.
Exposes ``document``, ``statement`` and ``service_trust``.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence


def statement(*, sid: str, actions: Sequence[str], resources: Sequence[str] | str,
              effect: str = "Allow", principal: Mapping[str, Any] | str | None = None,
              condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One policy statement; ``principal`` only for resource policies."""
    result: dict[str, Any] = {"Sid": sid, "Effect": effect}
    if principal is not None:
        result["Principal"] = principal
    result["Action"] = list(actions)
    result["Resource"] = resources if isinstance(resources, str) else list(resources)
    if condition:
        result["Condition"] = dict(condition)
    return result


def document(*statements: Mapping[str, Any]) -> str:
    """A policy document (version 2012-10-17) holding ``statements``."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust(service: str, account_id: str,
                  source_arn_like: str | None = None) -> str:
    """A trust policy letting one AWS service assume the role for this account only."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn_like is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn_like}
    # Trust policies carry no Resource element.
    return document({
        "Sid": "AssumeFromService", "Effect": "Allow", "Principal": {"Service": service},
        "Action": "sts:AssumeRole", "Condition": condition,
    })
