"""The Data API's named parameters and its one-statement rule (emulator/runtime/data_api.py
``placeholders``): ``:name`` outside literals, identifiers, dollar quotes, comments and
casts becomes ``$n``; a second statement is refused."""
from __future__ import annotations

import pytest

from emulator.runtime.data_api import StatementError, placeholders


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT :a, :b, :a", ("SELECT $1, $2, $1", ["a", "b"])),
    ("SELECT ':a', \":a\", 'it''s :a'", ("SELECT ':a', \":a\", 'it''s :a'", [])),
    ("SELECT E'\\' :a' || :b", ("SELECT E'\\' :a' || $1", ["b"])),
    ("SELECT $$ :a; $$ || $tag$ :b $tag$ || :c", ("SELECT $$ :a; $$ || $tag$ :b $tag$ || $1",
                                                  ["c"])),
    ("SELECT :a::int -- :b;\n", ("SELECT $1::int -- :b;\n", ["a"])),
    ("SELECT /* :a /* nested */ ; */ :b", ("SELECT /* :a /* nested */ ; */ $1", ["b"])),
    ("SELECT 1;  -- a trailing semicolon and comment\n", (
        "SELECT 1;  -- a trailing semicolon and comment\n", [])),
    ("SELECT now()::date", ("SELECT now()::date", [])),
])
def test_placeholders(sql: str, expected: tuple[str, list[str]]) -> None:
    assert placeholders(sql) == expected


@pytest.mark.parametrize("sql", ["SELECT 1; SELECT 2", "CREATE ROLE a; DROP ROLE b;",
                                 "SELECT 1;/* c */SELECT 2"])
def test_a_second_statement_is_refused(sql: str) -> None:
    with pytest.raises(StatementError, match="^Multistatements aren't supported.$"):
        placeholders(sql)
