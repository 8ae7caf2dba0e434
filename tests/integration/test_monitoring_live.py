"""Monitoring, live: the alarm topics, alarms on every tier wired to them, the dashboard.

Alarms are found by name: every alarm of the environment is ``tap-<suffix>-<key>``
(``Names.alarm``). An alarm notifies only a topic in its own region, so alarms on
CloudFront and WAF metrics live in us-east-1 and notify the global alarm topic there;
every other alarm lives in the stack's region and notifies ``alarm_topic_arn``. Each
sends both ALARM and OK notifications. On the shared pieces the database's, the cache's and
the web ACL's alarms are the shared stack's (lib/shared_stack.py), never the environment's.
"""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
from typing import Any

import pytest

from lib.config import GLOBAL_REGION, Settings
from lib.naming import Names
from tests.integration.live import Clients
from tests.integration.outputs import Outputs

# Metric namespaces that must each have at least one alarm (alternatives in one set).
REGIONAL_NAMESPACES = ({"AWS/ApplicationELB"}, {"AWS/ECS", "ECS/ContainerInsights"},
                       {"AWS/RDS"}, {"AWS/ElastiCache"})
GLOBAL_NAMESPACES = ({"AWS/CloudFront"}, {"AWS/WAFV2"})
_GLOBAL = set().union(*GLOBAL_NAMESPACES)
SHARED_PIECES_NAMESPACES = {"AWS/RDS", "AWS/ElastiCache", "AWS/WAFV2"}  # the shared stack's


@pytest.fixture(scope="module")
def topics(outputs: Outputs) -> dict[str, str]:
    """The topic ARN alarms notify, by kind (regional, global)."""
    return {"regional": outputs.require("alarm_topic_arn"),
            "global": outputs.require("global_alarm_topic_arn")}


@pytest.fixture(scope="module")
def alarms(aws: Clients, settings: Settings, names: Names) -> list[dict[str, Any]]:
    """Every alarm named ``tap-<suffix>-*`` in the stack's region and in us-east-1."""
    found: dict[str, dict[str, Any]] = {}
    for region in sorted({settings.aws_region, GLOBAL_REGION}):
        pages = aws("cloudwatch", region).get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=f"{names.prefix}-", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        for page in pages:
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                found[alarm["AlarmArn"]] = alarm
    return list(found.values())


def _namespaces(alarm: dict[str, Any]) -> set[str]:
    """Namespaces an alarm watches (a plain metric or the metrics of a math expression)."""
    found = {alarm["Namespace"]} if alarm.get("Namespace") else set()
    for query in alarm.get("Metrics", []):
        if "MetricStat" in query:
            found.add(query["MetricStat"]["Metric"]["Namespace"])
    return found


def test_alarm_topics_exist_encrypted(aws: Clients, settings: Settings, names: Names,
                                      topics: dict[str, str]) -> None:
    expected = {"regional": (settings.aws_region, names.alarm_topic),
                "global": (GLOBAL_REGION, names.global_alarm_topic)}
    for kind, (region, name) in expected.items():
        arn = topics[kind]
        assert (arn.split(":")[3], arn.rsplit(":", 1)[1]) == (region, name)
        attributes = aws("sns", region).get_topic_attributes(TopicArn=arn)["Attributes"]
        assert attributes["TopicArn"] == arn
        assert attributes.get("KmsMasterKeyId"), f"{arn} is not encrypted"


def test_alarms_notify_the_topic_of_their_region(alarms: list[dict[str, Any]],
                                                 settings: Settings,
                                                 topics: dict[str, str]) -> None:
    assert alarms, "no alarm of this environment"
    for alarm in alarms:
        kind = "global" if _namespaces(alarm) <= _GLOBAL else "regional"
        region = GLOBAL_REGION if kind == "global" else settings.aws_region
        assert alarm["AlarmArn"].split(":")[3] == region, alarm["AlarmArn"]
        assert alarm["ActionsEnabled"] is True
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topics[kind]], alarm["AlarmName"]


def test_alarms_cover_every_tier(alarms: list[dict[str, Any]], settings: Settings) -> None:
    watched = set().union(*(_namespaces(alarm) for alarm in alarms))
    wanted = REGIONAL_NAMESPACES + GLOBAL_NAMESPACES
    if settings.shared is not None:
        wanted = tuple(options for options in wanted if not options & SHARED_PIECES_NAMESPACES)
        assert not watched & SHARED_PIECES_NAMESPACES, \
            f"alarms on the shared pieces in the environment: {sorted(watched)}"
    missing = [sorted(options) for options in wanted if not options & watched]
    assert not missing, f"no alarm on {missing} (alarms on {sorted(watched)})"


def test_dashboard_exists_with_widgets(aws: Clients, outputs: Outputs, names: Names,
                                      settings: Settings) -> None:
    name = outputs.value("dashboard_name")
    if not settings.profile.dashboard:  # the ephemeral profile makes none
        assert name == ""
        entries = aws("cloudwatch").list_dashboards(
            DashboardNamePrefix=names.dashboard)["DashboardEntries"]
        assert names.dashboard not in [entry["DashboardName"] for entry in entries]
        return
    assert name == names.dashboard
    dashboard = aws("cloudwatch").get_dashboard(DashboardName=name)
    assert dashboard["DashboardName"] == name
    assert json.loads(dashboard["DashboardBody"])["widgets"]
