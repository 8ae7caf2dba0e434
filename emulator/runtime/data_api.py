"""The RDS Data API's statements, run on an Aurora stand-in with Debian's ``psql``.

``run_statement(server, ...)`` connects to the cluster's stand-in as the secret's user, over
TLS verified against the endpoint's name (as the Data API connects to the writer), and runs
one statement in its own transaction (the Data API autocommits a call without a
``transactionId``):

- the SQL never passes through psql's own parser: it travels in an environment variable, is
  quoted by psql (``:'sql'``) and sent to the server by ``\\gexec``, which executes the
  generated text literally ("they cannot be psql meta-commands"); a statement PostgreSQL can
  prepare (SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES) is first ``PREPARE``d that way, so
  that ``\\gdesc`` gives its columns' types, then ``EXECUTE``d with the call's parameters
  (each a psql-quoted literal); any other statement (DDL, ``CREATE DATABASE``, ``GRANT``,
  ``SHOW``) runs as it is, its columns, if any, as text;
- ``:name`` placeholders become ``$n`` (the Data API's named parameters), outside string
  literals, quoted identifiers, dollar quotes, comments and ``::`` casts;
- more than one statement is refused before anything runs: "Multi-statements aren't
  supported" for Aurora PostgreSQL Serverless v2 and provisioned clusters
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html);
- the answer is the Data API's
  (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html):
  ``records`` (one list of ``Field`` per row: ``longValue`` for integers, ``doubleValue``,
  ``booleanValue``, ``blobValue``, ``isNull``, ``stringValue`` for everything else, numeric
  and dates included), ``numberOfRecordsUpdated`` (the rows an INSERT, UPDATE, DELETE or
  MERGE changed, else 0), ``columnMetadata`` when asked (name, label, ``typeName`` as
  PostgreSQL names the type, ``type`` as the JDBC type code the PostgreSQL driver reports);
- a refusal of the server (or of the login) raises ``DatabaseError`` with PostgreSQL's
  message and SQLSTATE.

Exposes ``run_statement``, ``Result``, ``DatabaseError``, ``StatementError`` (a call the
Data API refuses before running it) and ``placeholders`` (the SQL with ``$n``, the names).
"""
from __future__ import annotations

import base64
import csv
import io
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.runtime.standins import StartError, run

if TYPE_CHECKING:
    from emulator.runtime.postgres import PostgresServer

# psql's \gdesc type names -> (PostgreSQL's own type name, the JDBC type code pgjdbc reports)
_TYPES = {
    "smallint": ("int2", 5), "integer": ("int4", 4), "bigint": ("int8", -5),
    "oid": ("oid", -5), "real": ("float4", 7), "double precision": ("float8", 8),
    "numeric": ("numeric", 2), "boolean": ("bool", -7), "text": ("text", 12),
    "character varying": ("varchar", 12), "character": ("bpchar", 1), "name": ("name", 12),
    "bytea": ("bytea", -2), "date": ("date", 91), "time without time zone": ("time", 92),
    "timestamp without time zone": ("timestamp", 93),
    "timestamp with time zone": ("timestamptz", 93), "uuid": ("uuid", 1111),
    "json": ("json", 1111), "jsonb": ("jsonb", 1111),
}
_LONG = {"int2", "int4", "int8", "oid"}
_DOUBLE = {"float4", "float8"}
_DML = {"insert", "update", "delete", "merge"}
_PARAMETER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_]+")
CONNECT_TIMEOUT = 10

SCRIPT = r"""
\set ON_ERROR_STOP 0
\set QUIET 1
\pset format csv
\getenv marker TAP_MARKER
\pset null :marker
\getenv sql TAP_SQL
{getenv}
SELECT format('PREPARE tap_statement AS %s', :'sql') \gexec
\if {prepare}
\qecho :marker raw
SELECT :'sql' \gexec
\else
\qecho :marker described
EXECUTE tap_statement{arguments} \gdesc
\qecho :marker rows
EXECUTE tap_statement{arguments} \g
\endif
\qecho :marker status :ERROR :ROW_COUNT
\if :ERROR
\qecho :marker error :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
\endif
"""


class StatementError(ValueError):
    """A call the Data API refuses before running anything (the message says why)."""


@dataclass
class DatabaseError(Exception):
    """PostgreSQL refused the statement or the login."""

    message: str
    sqlstate: str = ""

    def __str__(self) -> str:
        return self.message


@dataclass(kw_only=True)
class Result:
    """An ExecuteStatement answer, in the Data API's shapes."""

    records: list[list[dict[str, Any]]] = field(default_factory=list)
    column_metadata: list[dict[str, Any]] = field(default_factory=list)
    updated: int = 0
    has_rows: bool = False


def _skip_quoted(sql: str, index: int) -> int:
    """The index after the literal, identifier, dollar quote or comment at ``index``, or
    ``index`` itself when none starts there."""
    char, rest = sql[index], sql[index:]
    if char in "'\"":
        end = index + 1
        while end < len(sql):
            if sql[end] == char:
                if end + 1 < len(sql) and sql[end + 1] == char:  # '' or "" inside
                    end += 2
                    continue
                return end + 1
            # E'...' strings escape with backslashes
            if char == "'" and sql[end] == "\\" and index > 0 and sql[index - 1] in "eE":
                end += 2
                continue
            end += 1
        return len(sql)
    if rest.startswith("--"):
        newline = sql.find("\n", index)
        return len(sql) if newline < 0 else newline + 1
    if rest.startswith("/*"):
        depth, end = 1, index + 2
        while end < len(sql) and depth:
            depth += {"/*": 1, "*/": -1}.get(sql[end:end + 2], 0)
            end += 2 if sql[end:end + 2] in ("/*", "*/") else 1
        return end
    dollar = _DOLLAR_TAG.match(sql, index)
    if char == "$" and dollar is not None and (index == 0 or not sql[index - 1].isalnum()):
        closing = sql.find(dollar.group(0), dollar.end())
        return len(sql) if closing < 0 else closing + len(dollar.group(0))
    return index


def placeholders(sql: str) -> tuple[str, list[str]]:
    """The SQL with each ``:name`` replaced by ``$n`` (one number per name), the names in
    order; StatementError when it holds more than one statement."""
    out: list[str] = []
    names: list[str] = []
    index = 0
    while index < len(sql):
        skipped = _skip_quoted(sql, index)
        if skipped != index:
            out.append(sql[index:skipped])
            index = skipped
            continue
        if sql.startswith("::", index):
            out.append("::")
            index += 2
            continue
        match = _PARAMETER.match(sql, index)
        if match is not None:
            name = match.group(1)
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
            index = match.end()
            continue
        if sql[index] == ";" and _code(sql[index + 1:]).strip():
            raise StatementError("Multistatements aren't supported.")
        out.append(sql[index])
        index += 1
    return "".join(out), names


def _code(sql: str) -> str:
    """``sql`` without its comments and quoted parts' contents (for looking at keywords)."""
    out, index = [], 0
    while index < len(sql):
        skipped = _skip_quoted(sql, index)
        if skipped != index:
            out.append(" " if sql[index] in "-/" else "''")
            index = skipped
        else:
            out.append(sql[index])
            index += 1
    return "".join(out)


def _first_keyword(sql: str) -> str:
    match = _WORD.search(_code(sql))
    return match.group(0).lower() if match else ""


def _literal(value: dict[str, Any]) -> str | None:
    """A Data API parameter value as the text of a SQL literal (None: NULL)."""
    if value.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue"):
        if key in value:
            return str(value[key])
    if "booleanValue" in value:
        return "true" if value["booleanValue"] else "false"
    if "blobValue" in value:
        return "\\x" + base64.b64decode(value["blobValue"]).hex()
    raise StatementError(f"Unsupported parameter value {sorted(value)}: array values are not "
                         "supported")


def _field(text: str, type_name: str, null: str) -> dict[str, Any]:
    if text == null:
        return {"isNull": True}
    if type_name in _LONG:
        return {"longValue": int(text)}
    if type_name in _DOUBLE:
        return {"doubleValue": float(text)}
    if type_name == "bool":
        return {"booleanValue": text == "t"}
    if type_name == "bytea" and text.startswith("\\x"):
        return {"blobValue": bytes.fromhex(text[2:])}
    return {"stringValue": text}


def _column(name: str, described: str) -> dict[str, Any]:
    base = re.sub(r"\(.*\)", "", described).strip()
    type_name, code = _TYPES.get(base, (base, 1111))
    return {"name": name, "label": name, "typeName": type_name, "type": code,
            "schemaName": "", "tableName": "", "isAutoIncrement": False,
            "isSigned": type_name in _LONG | _DOUBLE | {"numeric"}, "isCurrency": False,
            "isCaseSensitive": code in (1, 12), "nullable": 2, "precision": 0, "scale": 0,
            "arrayBaseColumnType": 0}


def _sections(output: str, marker: str) -> dict[str, list[str]]:
    """psql's output cut at the marker lines: {section: lines after it}."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in output.splitlines():
        if line.startswith(marker + " "):
            words = line[len(marker) + 1:]
            current = words.split(" ", 1)[0]
            sections[current] = [words.split(" ", 1)[1]] if " " in words else []
        else:
            sections[current].append(line)
    return sections


def run_statement(server: PostgresServer, *, host: str, ca_bundle: str, user: str,
                  password: str, database: str, sql: str,
                  parameters: list[dict[str, Any]]) -> Result:
    """Run one statement as ``user`` on ``server`` (reached as ``host``); DatabaseError
    when PostgreSQL refuses it or the login, StatementError when the call is refused."""
    text, names = placeholders(sql)
    values = {parameter.get("name"): parameter.get("value", {}) for parameter in parameters}
    missing = [name for name in names if name not in values]
    if missing:
        raise StatementError(f"No value specified for parameter: {missing[0]}")
    marker = "#tap-" + secrets.token_hex(8)
    environment = {"PGPASSWORD": password, "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
                   "TAP_MARKER": marker, "TAP_SQL": text}
    arguments = []
    for number, name in enumerate(names, start=1):
        literal = _literal(values[name])
        if literal is None:
            arguments.append("NULL")
        else:
            environment[f"TAP_P{number}"] = literal
            arguments.append(f":'p{number}'")
    script = SCRIPT.format(
        getenv="\n".join(f"\\getenv p{number} TAP_P{number}"
                         for number in range(1, len(names) + 1)),
        prepare=":ERROR", arguments=f"({', '.join(arguments)})" if arguments else "")
    connection = (f"host={host} hostaddr={server.address} port={server.port} user={user} "
                  f"dbname={database} sslmode=verify-full sslrootcert={ca_bundle} "
                  "application_name=rds-data-api")
    try:
        output = run([str(_psql()), "-X", "-d", connection, "-f", "-"], stdin=script,
                     environment=environment, what="psql (the Data API's statement)",
                     timeout=60)
    except StartError as error:  # the login failed: psql exits 2 with the server's words
        message = str(error).split(": ", 2)[-1]
        match = re.search(r"FATAL:\s+(.*)", message)
        raise DatabaseError(f"FATAL: {match.group(1) if match else message}") from error
    return _result(_sections(output, marker), marker, _first_keyword(sql))


def _psql() -> Any:
    from emulator.runtime.postgres import BINDIR  # pylint: disable=import-outside-toplevel
    return BINDIR / "psql"


def _result(sections: dict[str, list[str]], null: str, keyword: str) -> Result:
    status = (sections.get("status") or ["true 0"])[0].split()
    if status[0] == "true":
        error = (sections.get("error") or [" unknown error"])[0]
        sqlstate, _, message = error.partition(" ")
        raise DatabaseError(f"ERROR: {message}", sqlstate)
    count = int(status[1]) if len(status) > 1 and status[1].isdigit() else 0
    result = Result(updated=count if keyword in _DML else 0)
    if "described" in sections:
        described = list(csv.reader(io.StringIO("\n".join(sections["described"]))))
        columns = [(row[0], row[1]) for row in described[1:] if len(row) == 2] \
            if described and described[0] == ["Column", "Type"] else []
        rows = list(csv.reader(io.StringIO("\n".join(sections.get("rows", [])))))[1:]
    else:  # a statement psql cannot prepare: its rows, if any, as text
        rows = list(csv.reader(io.StringIO("\n".join(sections.get("raw", [])))))
        columns = [(name, "text") for name in rows[0]] if rows else []
        rows = rows[1:]
    metadata = [_column(name, described) for name, described in columns]
    result.column_metadata = metadata
    result.has_rows = bool(columns)
    result.records = [[_field(value, column["typeName"], null)
                       for value, column in zip(row, metadata)] for row in rows]
    return result
