"""The change scenarios' table (tests/e2e/changes.py) and the refactor's synth, offline."""
from __future__ import annotations

import re
from pathlib import Path

from lib.variables import VARIABLES
from tests.e2e import changes
from tests.e2e.changes import CHANGES, CONTROL, IN_PLACE, NOT_LIVE, Outcome
from tools import plan_check



def test_every_setting_is_planned_or_said_why_not() -> None:
    planned = {name for change in CHANGES for name in re.findall(r"[A-Z][A-Z_]+", change.setting)}
    settings = {variable.name for variable in VARIABLES}
    assert len(settings) > 20
    assert settings - planned - set(NOT_LIVE) == set()
    assert set(NOT_LIVE) - settings == set()  # no stale reason
    assert CHANGES[0] is CONTROL and not CONTROL.settings


def test_names_are_unique_directories() -> None:
    names = [change.name for change in CHANGES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9-]+", name) for name in names)
    assert "db-engine-version-16-6-to-16-8-minor" in names


def change(address: str, rtype: str, action: str, forcing: tuple[str, ...] = ()
           ) -> plan_check.Change:
    return plan_check.Change(address=address, rtype=rtype, action=action, forcing=forcing,
                             reason="replace_because_cannot_update" if forcing else None)


def test_the_table_rows() -> None:
    port = next(c for c in CHANGES if c.setting == "CONTAINER_PORT")
    cache = next(c for c in CHANGES if c.setting == "CACHE_ENGINE")
    allow = next(c for c in CHANGES if c.setting == "ALLOW_DESTROY")
    others = tuple(change(f"aws_route.network_r{i}_0123ABCD", "aws_route", "replace", ("cidr",))
                   for i in range(5))
    outcomes = [
        Outcome(port, plan_check.judge((
            change("aws_lb_target_group.app_web_1A2B3C4D", "aws_lb_target_group", "replace",
                   ("port",)),
            change("aws_lb_listener_rule.app_rule_99999999", "aws_lb_listener_rule", "update"),
            change("aws_ecs_service.app_service_AAAAAAAA", "aws_ecs_service", "no-op")), set())),
        Outcome(cache, plan_check.judge((
            change("aws_elasticache_serverless_cache.data_cache_12345678",
                   "aws_elasticache_serverless_cache", "replace", ("engine",)), *others), set())),
        Outcome(allow, None),
    ]
    assert [o.result for o in outcomes] == [IN_PLACE, changes.REFUSED, changes.INVALID]
    lines = changes.render(outcomes).splitlines()
    assert lines[0].startswith("| setting | change on a live `dev` | create | update |")
    assert lines[2] == ("| `CONTAINER_PORT` | 8000 to 8080 | 0 | 1 | 1 | 0 | "
                        "`aws_lb_target_group.app_web` (port) | passes | " + port.advice + " |")
    assert lines[3].split(" | ")[2:8] == [
        "0", "0", "6", "0",
        "**`aws_elasticache_serverless_cache.data_cache` (engine)**; `aws_route.network_r0` "
        "(cidr); `aws_route.network_r1` (cidr); `aws_route.network_r2` (cidr); and 2 more",
        "refuses (1 stateful)"]
    assert lines[4].split(" | ")[2:8] == ["-"] * 5 + ["refused by `main.py` (exit 2)"]


def test_the_page_table_round_trips(tmp_path: Path) -> None:
    page = tmp_path / "changes.md"
    page.write_text(f"# x\n{changes.BEGIN}\nold\n{changes.END}\nrest\n", encoding="utf-8")
    table = tmp_path / "table.md"
    table.write_text("| a |\n| --- |\n", encoding="utf-8")
    changes.update_page(table, page)
    text = page.read_text(encoding="utf-8")
    assert text == f"# x\n{changes.BEGIN}\n| a |\n| --- |\n{changes.END}\nrest\n"
    assert changes.page_table(text) == "| a |\n| --- |"
    assert changes.page_table("no markers") == ""


def test_the_page_has_the_markers_once_and_a_row_per_change() -> None:
    text = changes.PAGE.read_text(encoding="utf-8")
    assert text.count(changes.BEGIN) == text.count(changes.END) == 1
    rows = changes.page_table(text).split("\n\n", 1)[0].splitlines()[2:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [
        f"`{change.setting}`" for change in CHANGES]
