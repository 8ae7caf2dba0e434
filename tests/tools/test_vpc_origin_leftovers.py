"""tools/vpc_origin_leftovers.py on a fake EC2 client whose answers have the shapes of EC2's
DescribeSecurityGroups and DescribeNetworkInterfaces (the emulator's own run is in the e2e's
destroys): CloudFront's interfaces leave, then its group is deleted; a group CloudFront
removed itself, or none at all, is fine; interfaces that never leave fail the destroy with
one line."""
from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from tools import vpc_origin_leftovers

GROUP = "sg-0c1f2e3d4a5b6c7d8"


class FakeEc2:  # pylint: disable=too-few-public-methods
    """DescribeSecurityGroups / DescribeNetworkInterfaces answers, one per call, then the
    last again; DeleteSecurityGroup recorded or refused."""

    exceptions = botocore.exceptions

    def __init__(self, groups: list[list[str]], interfaces: list[list[str]],
                 delete_error: str | None = None) -> None:
        self.groups, self.interfaces, self.delete_error = groups, interfaces, delete_error
        self.deleted: list[str] = []

    @staticmethod
    def _next(answers: list[list[str]]) -> list[str]:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def describe_security_groups(self, **_: Any) -> dict[str, Any]:
        return {"SecurityGroups": [{"GroupId": g} for g in self._next(self.groups)]}

    def describe_network_interfaces(self, **_: Any) -> dict[str, Any]:
        return {"NetworkInterfaces": [{"NetworkInterfaceId": i}
                                      for i in self._next(self.interfaces)]}

    def delete_security_group(self, GroupId: str) -> None:  # pylint: disable=invalid-name
        if self.delete_error:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": self.delete_error, "Message": f"resource {GroupId} ..."}},
                "DeleteSecurityGroup")
        self.deleted.append(GroupId)


def run(ec2: FakeEc2, timeout: float = 60) -> tuple[int, list[str]]:
    lines: list[str] = []
    clock = iter(range(0, 10000, 5))
    code = vpc_origin_leftovers.clean(ec2, "vpc-01", timeout, clock=lambda: next(clock),
                                      sleep=lambda _: None, out=lines.append)
    return code, lines


def test_waits_for_the_interfaces_then_deletes_the_group() -> None:
    ec2 = FakeEc2([[GROUP]], [["eni-1", "eni-2"], ["eni-2"], []])
    assert run(ec2) == (0, [f"vpc-origin-leftovers: deleted {vpc_origin_leftovers.GROUP_NAME} "
                            f"{GROUP} of vpc-01"])
    assert ec2.deleted == [GROUP]


@pytest.mark.parametrize("ec2,line", [
    (FakeEc2([[]], [[]]), "vpc-origin-leftovers: nothing of CloudFront's left in vpc-01"),
    (FakeEc2([[GROUP]], [[]], delete_error="InvalidGroup.NotFound"),
     f"vpc-origin-leftovers: {vpc_origin_leftovers.GROUP_NAME} {GROUP} was removed by "
     "CloudFront"),
])
def test_a_group_already_gone_is_fine(ec2: FakeEc2, line: str) -> None:
    assert run(ec2) == (0, [line])


def test_interfaces_that_stay_fail_the_destroy() -> None:
    code, lines = run(FakeEc2([[GROUP]], [["eni-9"]]), timeout=20)
    assert code == 1 and not lines[0].startswith("vpc-origin-leftovers: deleted")
    assert "eni-9 are still in vpc-01 after 20 s" in lines[0]


def test_a_refused_delete_fails_with_its_reason() -> None:
    code, lines = run(FakeEc2([[GROUP]], [[]], delete_error="DependencyViolation"))
    assert code == 1 and lines == [f"vpc-origin-leftovers: cannot delete "
                                   f"{vpc_origin_leftovers.GROUP_NAME} {GROUP}: "
                                   f"DependencyViolation: resource {GROUP} ..."]
