"""What an environment's life depends on: its stateful resources, protected in production.

``STATEFUL_TYPES`` are the Terraform resource types whose deletion or replacement loses
data or breaks what depends on them (the database, the cache, encryption keys, secrets,
buckets and log groups): the types marked ``stateful`` in the registry
(``lib/resource_types.py``), re-exported here. Production marks every resource of these
types with ``prevent_destroy`` (see ``protect``); the plan guard (``tools/plan_check.py``)
refuses a plan that deletes or replaces one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lib.resource_types import STATEFUL_TYPES

if TYPE_CHECKING:  # the plan guard imports this module: it must not start jsii
    from cdktf import TerraformResource
    from constructs import IConstruct

__all__ = ["STATEFUL_TYPES", "protect"]


def protect(scope: IConstruct) -> list[TerraformResource]:
    """Mark every stateful resource under ``scope`` with ``lifecycle.prevent_destroy``;
    returns them. Terraform then refuses, at plan time and before touching anything, any
    plan that would delete or replace one: ``destroy`` included."""
    from cdktf import TerraformResource  # pylint: disable=import-outside-toplevel,redefined-outer-name

    protected = [node for node in scope.node.find_all()
                 if isinstance(node, TerraformResource)
                 and node.terraform_resource_type in STATEFUL_TYPES]
    for resource in protected:
        resource.add_override("lifecycle.prevent_destroy", True)
    return protected
