"""Environments on the shared pieces: each site reaches its own environment, and none can reach
another's data (the fleet's edge and isolation phases).

``edge(run, envs, writer, other)``: every environment's /readyz answers 200, ready with its
database and cache, through its own distribution (its ``viewer_url``: the emulator's CloudFront
adds the environment's origin-verify header, the shared listener's rule at its pull-request
number forwards to its target group); a message written through ``writer``'s site is listed
through it, and not through ``other``'s (its own database, behind the same load balancer).

``isolation(run, pieces, reader, owner)`` proves, on the emulator's stand-ins (the shared
cache's Redis, the shared cluster's PostgreSQL), what ``reader`` can do to ``owner``'s data,
each time with a control that must succeed, so that a refusal means the boundary and not a
broken probe:

- cache: logged in as ``reader``'s cache user (its name and password from its own
  ``redis_secret_arn`` secret, as ECS gives them to its tasks), over TLS to the cache's
  endpoint, a SET and a GET under ``reader``'s key prefix succeed, while a GET and a SET under
  ``owner``'s prefix are refused with NOPERM: its access string admits its own keys only
  (lib/shared_tenancy.py ``ACCESS_STRING``, a Redis ACL key pattern);
- database: with credentials of ``reader``'s task role (AssumeRole, as its tasks get them), an
  RDS IAM auth token for ``reader``'s app role connects to ``reader``'s database; the same role
  is refused by PostgreSQL in ``owner``'s database (``permission denied for database``: CONNECT
  was revoked from PUBLIC and granted to ``owner``'s app role only, tools/shared_database.py);
  and a token that ``reader``'s task role signs for ``owner``'s app role is refused at login
  (its policy allows ``rds-db:connect`` on its own database user only).
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess

import boto3

from emulator.runtime.viewer import fetch
from tests.e2e.harness import PhaseFailed, Run
from tests.e2e.phases import deployed_outputs
from tests.e2e.runtime import call, psql, runtime_dir
from tests.e2e.shared_pieces import Pieces, names_of

REDIS_CLI = "/usr/bin/redis-cli"
NOPERM = "NOPERM"
PERMISSION_DENIED = "permission denied for database"
LOGIN_REFUSED = "authentication failed"


def site(run: Run, env: Run, path: str, method: str = "GET", body: object = None
         ) -> tuple[int, object]:
    """A request to ``env``'s site through its distribution, as a viewer makes it: its status
    and JSON answer."""
    answer = fetch(str(deployed_outputs(env)["viewer_url"]).rstrip("/") + path,
                   runtime_dir=runtime_dir(run), method=method,
                   headers=[("Content-Type", "application/json")] if body is not None else None,
                   body=json.dumps(body).encode("utf-8") if body is not None else b"")
    try:
        return answer.status, json.loads(answer.body or b"null")
    except ValueError:
        return answer.status, answer.body[:200]


def edge(run: Run, envs: list[Run], writer: Run, other: Run) -> None:
    """Each site reaches its own environment (see the module docstring); notes on ``run``."""
    for env in envs:
        status, body = site(run, env, "/readyz")
        if status != 200 or not isinstance(body, dict) or body.get("ready") is not True:
            raise PhaseFailed(f"edge: {env.suffix}'s /readyz through its distribution answered "
                              f"{status}: {body}")
    text = f"written through {writer.suffix}'s site {secrets.token_hex(4)}"
    status, created = site(run, writer, "/api/messages", "POST", {"text": text})
    if status != 201:
        raise PhaseFailed(f"edge: POST /api/messages through {writer.suffix}'s site answered "
                          f"{status}: {created}")
    listed: dict[str, list[str]] = {}
    for env in (writer, other):
        status, body = site(run, env, "/api/messages")
        if status != 200 or not isinstance(body, dict):
            raise PhaseFailed(f"edge: GET /api/messages through {env.suffix}'s site answered "
                              f"{status}: {body}")
        listed[env.suffix] = [message["text"] for message in body["messages"]]
    if text not in listed[writer.suffix] or text in listed[other.suffix]:
        raise PhaseFailed(f"edge: {text!r} should be listed through {writer.suffix}'s site "
                          f"only: {listed}")
    run.report.notes.append(
        f"edge: /readyz of {', '.join(env.suffix for env in envs)} ready through each one's "
        f"distribution and the shared listener; a message written through {writer.suffix}'s "
        f"site is listed there and not through {other.suffix}'s")


def cache_login(run: Run) -> tuple[str, str]:
    """An environment's cache user and password, from its own secret."""
    value = json.loads(run.client("secretsmanager").get_secret_value(
        SecretId=deployed_outputs(run)["redis_secret_arn"])["SecretString"])
    return str(value["username"]), str(value["password"])


def redis(run: Run, cache: str, login: tuple[str, str], *command: str) -> str:
    """One command on the cache's stand-in as ``login`` (TLS, the emulator's CA, the cache's
    endpoint name for SNI); its reply as redis-cli prints it. The password travels in
    REDISCLI_AUTH, never on the command line."""
    _, answer = call(run, "GET", "standins")
    standin = next(s for s in answer["standins"] if s["kind"] == "redis" and s["id"] == cache)
    result = subprocess.run(
        [REDIS_CLI, "--tls", "--cacert", str(runtime_dir(run) / "tls" / "ca.pem"),
         "--sni", standin["names"][0], "-h", standin["address"], "-p", str(standin["ports"][0]),
         "--user", login[0], "--no-auth-warning", "-c", *command],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REDISCLI_AUTH": login[1]},
        capture_output=True, text=True, timeout=30, check=False)
    return (result.stdout + result.stderr).strip()


def _cache(run: Run, pieces: Pieces, reader: Run, owner: Run) -> list[str]:
    login = cache_login(reader)
    mine = f"{names_of(reader).cache_key_prefix}isolation-probe"
    theirs = f"{names_of(owner).cache_key_prefix}isolation-probe"
    control = [redis(run, pieces.cache_name, login, "SET", mine, "ours"),
               redis(run, pieces.cache_name, login, "GET", mine)]
    if control != ["OK", "ours"]:
        raise PhaseFailed(f"isolation: {login[0]} could not SET and GET its own key {mine}: "
                          f"{control}")
    refused = {verb: redis(run, pieces.cache_name, login, verb, theirs, *extra)
               for verb, extra in (("GET", ()), ("SET", ("taken",)))}
    if not all(reply.startswith(NOPERM) for reply in refused.values()):
        raise PhaseFailed(f"isolation: {login[0]} reached {owner.suffix}'s key {theirs}: "
                          f"{refused}")
    return [f"cache: {login[0]} SET/GET {mine} ok; GET and SET {theirs} refused "
            f"({refused['GET'].split()[0]})"]


def _task_role_credentials(run: Run, env: Run) -> dict[str, str]:
    """Credentials of an environment's task role, as ECS hands them to its tasks."""
    outputs = deployed_outputs(env)
    ecs = run.client("ecs")
    (service,) = ecs.describe_services(cluster=outputs["ecs_cluster_name"],
                                       services=[outputs["ecs_service_name"]])["services"]
    role = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"]["taskRoleArn"]
    found = run.client("sts").assume_role(RoleArn=role, RoleSessionName="isolation-probe")
    keys = found["Credentials"]
    return {"aws_access_key_id": keys["AccessKeyId"],
            "aws_secret_access_key": keys["SecretAccessKey"],
            "aws_session_token": keys["SessionToken"]}


def _database(run: Run, pieces: Pieces, reader: Run, owner: Run) -> list[str]:
    cluster = pieces.cluster_arn.rsplit(":", 1)[-1]
    (described,) = run.client("rds").describe_db_clusters(
        DBClusterIdentifier=cluster)["DBClusters"]
    rds = boto3.client("rds", region_name=run.region, endpoint_url=run.url,
                       **_task_role_credentials(run, reader))
    ours, theirs = names_of(reader), names_of(owner)

    def connect(user: str, database: str) -> subprocess.CompletedProcess[str]:
        token = rds.generate_db_auth_token(DBHostname=described["Endpoint"],
                                           Port=described["Port"], DBUsername=user)
        return psql(run, cluster, (user, token), "SELECT current_user", database=database)

    control = connect(ours.shared_app_role, ours.shared_database)
    if control.returncode != 0 or control.stdout.strip() != ours.shared_app_role:
        raise PhaseFailed(f"isolation: {ours.shared_app_role} could not connect to its own "
                          f"database {ours.shared_database}: {control.stderr.strip()}")
    crossed = connect(ours.shared_app_role, theirs.shared_database)
    if crossed.returncode == 0 or PERMISSION_DENIED not in crossed.stderr:
        raise PhaseFailed(f"isolation: {ours.shared_app_role} in {theirs.shared_database}: "
                          f"exit {crossed.returncode} {crossed.stdout}{crossed.stderr}")
    borrowed = connect(theirs.shared_app_role, theirs.shared_database)
    if borrowed.returncode == 0 or LOGIN_REFUSED not in borrowed.stderr:
        raise PhaseFailed(f"isolation: {reader.suffix}'s task role logged in as "
                          f"{theirs.shared_app_role}: exit {borrowed.returncode} "
                          f"{borrowed.stdout}{borrowed.stderr}")
    return [f"database: {reader.suffix}'s task role logs in as {ours.shared_app_role} to "
            f"{ours.shared_database}; that role is refused in {theirs.shared_database} "
            f"({PERMISSION_DENIED}); its token for {theirs.shared_app_role} is refused at login "
            f"({LOGIN_REFUSED})"]


def isolation(run: Run, pieces: Pieces, reader: Run, owner: Run) -> None:
    """The cache and database checks of the module docstring; notes on ``run``'s report."""
    found = _cache(run, pieces, reader, owner) + _database(run, pieces, reader, owner)
    run.report.notes.extend(f"isolation ({reader.suffix} -> {owner.suffix}) {line}"
                            for line in found)
