"""Application Auto Scaling tags for moto: ListTagsForResource, TagResource,
UntagResource, and the ``Tags`` of RegisterScalableTarget (moto 5.2.5 ignores the
latter and lacks the three actions, which ``aws_appautoscaling_target`` calls after
every create and read).

Tags are kept per scalable target ARN on the region's backend and dropped when the
target is deregistered; an unknown ARN answers ResourceNotFoundException.
"""
from __future__ import annotations

# The handlers below become methods of moto's response class: they read the request
# with moto's own helpers (_get_param, _get_params), as moto's handlers do.
# pylint: disable=protected-access

import json

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError

NAME = "application-autoscaling-tags"


class ResourceNotFoundException(JsonRESTError):
    """No scalable target has that ARN."""

    def __init__(self, arn: str) -> None:
        super().__init__("ResourceNotFoundException", f"Resource not found: {arn}")


def target_tags(backend: ApplicationAutoscalingBackend, arn: str) -> dict[str, str]:
    """The tags of the scalable target ``arn`` (a live dict); raises if there is none."""
    arns = {target.arn for by_id in backend.targets.values() for target in by_id.values()}
    store = backend.__dict__.setdefault("tap_tags", {})
    for stale in set(store) - arns:  # targets deregistered since
        del store[stale]
    if arn not in arns:
        raise ResourceNotFoundException(arn)
    return store.setdefault(arn, {})  # type: ignore[no-any-return]


def _list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
    tags = target_tags(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    return json.dumps({"Tags": tags})


def _tag_resource(self: ApplicationAutoScalingResponse) -> str:
    tags = target_tags(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    tags.update(self._get_param("Tags") or {})
    return json.dumps({})


def _untag_resource(self: ApplicationAutoScalingResponse) -> str:
    tags = target_tags(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return json.dumps({})


def install() -> str:
    """Register the three actions and make RegisterScalableTarget keep its tags."""
    register = ApplicationAutoScalingResponse.register_scalable_target
    if not getattr(register, "tap_extended", False):
        def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
            body = register(self)
            tags = self._get_param("Tags")
            if tags:
                arn = json.loads(body)["ScalableTargetARN"]
                target_tags(self.applicationautoscaling_backend, arn).update(tags)
            return body
        register_scalable_target.tap_extended = True  # type: ignore[attr-defined]
        ApplicationAutoScalingResponse.register_scalable_target = (  # type: ignore[method-assign]
            register_scalable_target)
    ApplicationAutoScalingResponse.list_tags_for_resource = (  # type: ignore[attr-defined]
        _list_tags_for_resource)
    ApplicationAutoScalingResponse.tag_resource = _tag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.untag_resource = _untag_resource  # type: ignore[attr-defined]
    return NAME
