"""Security group rule descriptions for moto.

DescribeSecurityGroupRules in moto 5.2.5 returns a rule's ``Description`` only for
CIDR rules; a rule that references another security group or a prefix list (all the
stack's rules) loses it, and the provider plans to set it again on every plan. Here the
description of the group pair or prefix list the rule was created with is returned.
"""
from __future__ import annotations

from typing import Any

from moto.ec2.models.security_groups import SecurityGroupRule

NAME = "ec2-security-group-rule-description"
_PREFIX_LIST_ARGUMENT = 7  # position of prefix_list_id in SecurityGroupRule.__init__


def install() -> str:
    """Keep the prefix list's description; answer the description of any rule kind."""
    original_init = SecurityGroupRule.__init__
    if getattr(original_init, "tap_extended", False):
        return NAME

    def __init__(self: SecurityGroupRule, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        prefix_list = kwargs.get("prefix_list_id")
        if prefix_list is None and len(args) > _PREFIX_LIST_ARGUMENT:
            prefix_list = args[_PREFIX_LIST_ARGUMENT]
        self.prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: SecurityGroupRule) -> str | None:
        return (self.ip_range.get("Description") or self.source_group.get("Description")
                or getattr(self, "prefix_list_description", None))

    __init__.tap_extended = True  # type: ignore[attr-defined]
    SecurityGroupRule.__init__ = __init__  # type: ignore[method-assign]
    SecurityGroupRule.description = property(description)  # type: ignore[assignment,method-assign]
    return NAME
