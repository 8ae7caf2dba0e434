"""tools/restored_cluster.py on a fake RDS client whose answers have the shape of RDS's
DescribeDBClusters (the emulator's own run is the e2e's restore phase): a restored cluster with
IAM authentication off is modified, then waited for until it says on and available; one
already on is left alone; one that never gets there fails with one line."""
from __future__ import annotations

from typing import Any

import pytest

from tools import restored_cluster

CLUSTER = "tap-devrestored-aurora"


class FakeRds:
    """DescribeDBClusters answers (IAMDatabaseAuthenticationEnabled, Status), one per call,
    then the last again; ModifyDBCluster recorded."""

    def __init__(self, states: list[tuple[bool, str]]) -> None:
        self.states = states
        self.modified: list[dict[str, Any]] = []

    def describe_db_clusters(self, DBClusterIdentifier: str) -> dict[str, Any]:  # pylint: disable=invalid-name
        iam, status = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"DBClusters": [{"DBClusterIdentifier": DBClusterIdentifier, "Status": status,
                                "IAMDatabaseAuthenticationEnabled": iam}]}

    def modify_db_cluster(self, **request: Any) -> None:
        self.modified.append(request)


def run(rds: FakeRds, timeout: float = 60) -> tuple[int, list[str]]:
    lines: list[str] = []
    clock = iter(range(0, 10000, 10))
    code = restored_cluster.enable(rds, CLUSTER, timeout, clock=lambda: next(clock),
                                   sleep=lambda _: None, out=lines.append)
    return code, lines


def test_a_restored_cluster_is_modified_then_waited_for() -> None:
    rds = FakeRds([(False, "available"), (False, "modifying"), (True, "modifying"),
                   (True, "available")])
    assert run(rds) == (0, [f"restored-cluster: {CLUSTER} has IAM database authentication on"])
    assert rds.modified == [{"DBClusterIdentifier": CLUSTER,
                             "EnableIAMDatabaseAuthentication": True, "ApplyImmediately": True}]


def test_a_cluster_with_iam_authentication_on_is_left_alone() -> None:
    rds = FakeRds([(True, "available")])
    assert run(rds)[0] == 0
    assert not rds.modified


def test_a_cluster_that_never_gets_there_fails_with_one_line() -> None:
    rds = FakeRds([(False, "available"), (False, "modifying")])
    code, lines = run(rds, timeout=30)
    assert code == 1
    assert lines == [f"restored-cluster: {CLUSTER} is modifying with IAM database "
                     "authentication off after 30 s"]


def test_main_needs_the_cluster_and_region(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TAP_DB_CLUSTER", raising=False)
    monkeypatch.setenv("TAP_REGION", "us-east-1")
    assert restored_cluster.main() == 2
    assert "TAP_DB_CLUSTER and TAP_REGION are required" in capsys.readouterr().err
