"""Application Auto Scaling: updating a target tracking policy replaces its alarms.

For a target tracking scaling policy, "Application Auto Scaling creates and manages the
CloudWatch alarms that invoke the scaling policy" (one set per policy, described as
"DO NOT EDIT OR DELETE"), and deleting the policy "also deletes the CloudWatch alarms
that Application Auto Scaling created on your behalf". moto 5.2.5 answers
PutScalingPolicy on an existing policy (same service namespace, resource ID, scalable
dimension and policy name) with a new policy object, which creates a new set of alarms
(``TargetTracking-<resource id>-AlarmHigh-<uuid>`` and ``-AlarmLow-<uuid>`` for ECS),
and never deletes the old policy's set: after each in-place update of an
``aws_appautoscaling_policy`` two orphan alarms remain, and DeleteScalingPolicy later
deletes only the newest pair. Here, once the new policy is stored, the alarms of the
policy it replaced are deleted, so a policy keeps the alarms moto makes for a new one.
A new policy, and a PutScalingPolicy that fails, leave the alarms as moto has them.

https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
https://docs.aws.amazon.com/autoscaling/application/userguide/delete-target-tracking-policy.html
"""
from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.models import (ApplicationAutoscalingBackend,
                                                FakeApplicationAutoscalingPolicy)

NAME = "application-autoscaling-policy-alarms"


def install() -> str:
    """Make PutScalingPolicy on an existing policy delete the alarms it replaces."""
    put = ApplicationAutoscalingBackend.put_scaling_policy
    if not getattr(put, "tap_extended", False):
        def put_scaling_policy(self: ApplicationAutoscalingBackend, policy_name: str,
                               service_namespace: str, resource_id: str,
                               scalable_dimension: str, *args: Any,
                               **kwargs: Any) -> FakeApplicationAutoscalingPolicy:
            key = FakeApplicationAutoscalingPolicy.formulate_key(
                service_namespace, resource_id, scalable_dimension, policy_name)
            old = self.policies.get(key)
            policy = put(self, policy_name, service_namespace, resource_id,
                         scalable_dimension, *args, **kwargs)
            if old is not None and self.policies.get(key) is not old:
                old.delete_alarms(self.account_id, self.region_name)
            return policy
        put_scaling_policy.tap_extended = True  # type: ignore[attr-defined]
        ApplicationAutoscalingBackend.put_scaling_policy = (  # type: ignore[method-assign]
            put_scaling_policy)
    return NAME
