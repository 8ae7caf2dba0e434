"""IAM database authentication for the Aurora stand-ins: the RDS auth token checked as RDS
checks it, and the PAM service that lets PostgreSQL ask.

A client of an Aurora cluster with IAM authentication sends, as its password, an auth token
(``boto3.client("rds").generate_db_auth_token(host, port, user)``): a SigV4 presigned URL
without its scheme, ``<host>:<port>/?Action=connect&DBUser=<user>&X-Amz-...``, valid 15
minutes, signed for the service ``rds-db`` with the caller's credentials
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.Connecting.html).
RDS lets the connection in when the token is for that user and that endpoint, not expired,
signed with valid credentials, and the signer may ``rds-db:connect`` on
``arn:aws:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>``
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html).

``verify_token(token, user, target, now)`` checks exactly that, against moto: the access key
is an STS session of moto's (AssumeRole), not expired and with its session token, or an
active access key of an IAM user; the signature is recomputed with that secret key by
botocore's own SigV4 query signer; the policy is evaluated by ``iam.authorized`` (with a
session policy, if the session has one). It returns a ``Decision`` whose reason names the
first check that failed.

``RdsIam`` is the runtime's side: ``POST /_tap/runtime/rds-iam/verify`` (``{"cluster":
<arn>, "user", "token"}`` -> ``{"allowed", "reason"}``, each decision logged), ``GET
/_tap/runtime/rds-iam/decisions`` (the latest decisions, for tests and people); the PAM
module ``pam_exec_token.c`` compiled once into the state directory (a C compiler is needed:
``pam_exec`` cuts tokens at 511 bytes, see that file), and per cluster the service file
``/etc/pam.d/<service>`` that runs ``pam_verify.py`` (copied beside the module, where the
``postgres`` OS user can read it; written at start, removed at stop; only
root may write there: without root the PAM line refuses every token).
"""
from __future__ import annotations

import datetime
import hmac
import os
import shutil
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from emulator.runtime.control import Control
from emulator.runtime.iam import PARTITION, Decision, authorized
from emulator.runtime.standins import StartError, log, run

MAX_EXPIRES = 900  # a token is valid 15 minutes at most
CLOCK_SKEW = datetime.timedelta(minutes=5)
PAM_DIRECTORY = Path("/etc/pam.d")
HERE = Path(__file__).resolve().parent
VERIFIER = "pam_verify.py"  # standalone (standard library only)
DECISIONS_KEPT = 200


@dataclass(frozen=True, kw_only=True)
class Target:
    """What a token must be for: one cluster's endpoints, region, account and resource id."""

    cluster: str  # identifier, for reasons
    hosts: tuple[str, ...]
    port: int
    region: str
    account: str
    resource_id: str
    iam_enabled: bool


@dataclass(frozen=True, kw_only=True)
class Signer:
    """The principal behind an access key, and what signing needs."""

    principal: str
    secret_key: str
    session_token: str | None
    session_policy: Any


def _deny(reason: str) -> Decision:
    return Decision(allowed=False, reason=reason)


def verify_token(token: str, user: str, target: Target,
                 now: datetime.datetime | None = None) -> Decision:
    """Whether ``token`` lets ``user`` into ``target`` (see the module docstring)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not target.iam_enabled:
        return _deny(f"IAM database authentication is not enabled on cluster {target.cluster}")
    parsed = _parse(token)
    if isinstance(parsed, Decision):
        return parsed
    split, params = parsed
    refusal = _check_request(split, params, user, target) or _check_time(params, now)
    if refusal is not None:
        return refusal
    access_key = params["X-Amz-Credential"].split("/")[0]
    signer = find_signer(access_key, params.get("X-Amz-Security-Token"), target.account, now)
    if isinstance(signer, Decision):
        return signer
    if not hmac.compare_digest(_signature(split, params, access_key, signer, target.region),
                               params.get("X-Amz-Signature", "")):
        return _deny(f"the signature does not match (a token altered, or not signed with the "
                     f"secret key of {access_key})")
    resource = (f"arn:aws:rds-db:{target.region}:{target.account}:dbuser:"
                f"{target.resource_id}/{user}")
    decision = authorized(signer.principal, "rds-db:connect", resource,
                          {"aws:SecureTransport": "true"}, session_policy=signer.session_policy)
    return Decision(allowed=decision.allowed, reason=f"signed by {access_key}: {decision.reason}")


def _check_request(split: urllib.parse.SplitResult, params: dict[str, str], user: str,
                   target: Target) -> Decision | None:
    """The token asks to connect as ``user`` to an endpoint of ``target``, signed for rds-db
    in its region."""
    for key, expected in (("Action", "connect"), ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                          ("X-Amz-SignedHeaders", "host")):
        if params.get(key) != expected:
            return _deny(f"not an RDS auth token: {key} is {params.get(key)!r}, not {expected}")
    if params.get("DBUser") != user:
        return _deny(f"the token is for DBUser {params.get('DBUser')!r}, not {user!r}")
    if (split.hostname or "").lower() not in target.hosts or split.port != target.port:
        return _deny(f"the token is for {split.hostname}:{split.port}, not an endpoint of "
                     f"cluster {target.cluster} ({', '.join(target.hosts)} port {target.port})")
    scope = params.get("X-Amz-Credential", "").split("/")
    if len(scope) != 5 or scope[3:] != ["rds-db", "aws4_request"]:
        return _deny(f"the token's credential scope {'/'.join(scope)!r} is not for rds-db")
    if scope[2] != target.region:
        return _deny(f"the token is signed for region {scope[2]}, the cluster is in "
                     f"{target.region}")
    return None


def _parse(token: str) -> tuple[urllib.parse.SplitResult, dict[str, str]] | Decision:
    if "://" in token or not token:
        return _deny("not an RDS auth token (it is empty or has a scheme)")
    split = urllib.parse.urlsplit("https://" + token)
    try:
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True, strict_parsing=True)
        split.port  # pylint: disable=pointless-statement  # raises on a bad port
    except ValueError as error:
        return _deny(f"not an RDS auth token: {error}")
    params = dict(pairs)
    if split.path != "/" or not pairs:
        return _deny("not an RDS auth token (<host>:<port>/?Action=connect&DBUser=...&X-Amz-...)")
    if len(params) != len(pairs):
        return _deny("not an RDS auth token (a parameter given twice)")
    return split, params


def _check_time(params: dict[str, str], now: datetime.datetime) -> Decision | None:
    try:
        signed = datetime.datetime.strptime(params.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ"
                                            ).replace(tzinfo=datetime.timezone.utc)
        expires = int(params.get("X-Amz-Expires", ""))
    except ValueError:
        return _deny("not an RDS auth token: X-Amz-Date or X-Amz-Expires unreadable")
    if params["X-Amz-Credential"].split("/")[1] != signed.strftime("%Y%m%d"):
        return _deny("the token's X-Amz-Date is not the day of its credential scope")
    if not 0 < expires <= MAX_EXPIRES:
        return _deny(f"X-Amz-Expires {expires} is not within 1-{MAX_EXPIRES} seconds")
    if signed > now + CLOCK_SKEW:
        return _deny(f"the token is signed in the future ({signed.isoformat()})")
    if now > signed + datetime.timedelta(seconds=expires):
        return _deny(f"the token expired at "
                     f"{(signed + datetime.timedelta(seconds=expires)).isoformat()}")
    return None


def find_signer(access_key: str, session_token: str | None, account: str,
                now: datetime.datetime) -> Signer | Decision:
    """The STS session (AssumeRole) or IAM user behind ``access_key`` in moto, or why not."""
    session = sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key)
    if session is None:
        return _user_signer(access_key, session_token, account)
    if session_token != session.session_token:
        return _deny(f"{access_key} is an STS session's key but the token carries another "
                     "session token")
    expiration = session.expiration.replace(tzinfo=datetime.timezone.utc)
    if now >= expiration:
        return _deny(f"the credentials of {session.arn} expired at {expiration.isoformat()}")
    return Signer(principal=session.arn, secret_key=session.secret_access_key,
                  session_token=session_token, session_policy=session.policy)


def _user_signer(access_key: str, session_token: str | None, account: str
                 ) -> Signer | Decision:
    user = iam_backends[account][PARTITION].get_user_from_access_key_id(access_key)
    if user is None:
        return _deny(f"{access_key} is no access key of account {account} (neither an STS "
                     "session nor an IAM user's)")
    key = next(key for key in user.access_keys if key.access_key_id == access_key)
    if key.status != "Active":
        return _deny(f"{access_key} of IAM user {user.name} is {key.status}")
    if session_token is not None:
        return _deny(f"{access_key} is an IAM user's key: a token of it has no session token")
    return Signer(principal=user.arn, secret_key=key.secret_access_key, session_token=None,
                  session_policy=None)


def _signature(split: urllib.parse.SplitResult, params: dict[str, str], access_key: str,
               signer: Signer, region: str) -> str:
    """The SigV4 query signature botocore computes for this token with ``signer``'s key."""
    query = "&".join(part for part in split.query.split("&")
                     if not part.startswith("X-Amz-Signature="))
    request = AWSRequest(method="GET", url=f"https://{split.netloc}/?{query}")
    request.context["timestamp"] = params["X-Amz-Date"]
    auth = SigV4QueryAuth(Credentials(access_key, signer.secret_key, signer.session_token),
                          "rds-db", region, expires=int(params["X-Amz-Expires"]))
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))


class RdsIam:
    """The verify endpoint, the decisions kept, the PAM module and service files."""

    def __init__(self, control: Control, url: str, directory: Path,
                 lookup: Callable[[str], Target | None]) -> None:
        self.url = url
        self.directory = directory
        self.lookup = lookup
        self.decisions: deque[dict[str, Any]] = deque(maxlen=DECISIONS_KEPT)
        self._lock = threading.Lock()
        self._module: Path | None = None
        self._services: set[Path] = set()
        control.route("POST", "rds-iam/verify", self._verify)
        control.route("GET", "rds-iam/decisions", self._list)

    def _verify(self, body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object with cluster, user and token")
        cluster, user, token = str(body["cluster"]), str(body["user"]), str(body["token"])
        target = self.lookup(cluster)
        decision = (verify_token(token, user, target) if target is not None
                    else _deny(f"no Aurora stand-in for {cluster}"))
        entry = {"cluster": cluster, "user": user, "allowed": decision.allowed,
                 "reason": decision.reason}
        self.decisions.append(entry)
        log("rds-iam", f"{'allow' if decision.allowed else 'deny'} {user} on {cluster}: "
                       f"{decision.reason}")
        return 200, {"allowed": decision.allowed, "reason": decision.reason}

    def _list(self, _body: Any, _query: dict[str, str]) -> tuple[int, Any]:
        return 200, {"decisions": list(self.decisions)}

    def service_name(self, number: int) -> str:
        """A PAM service name unique to this emulator (its port) and cluster (a number)."""
        return f"{self._prefix()}{number}"

    def _prefix(self) -> str:
        return f"tap-emulator-{urllib.parse.urlsplit(self.url).port}-rds-"

    def remove_stale_services(self) -> None:
        """Service files of an earlier emulator on this port that could not remove them
        (killed): the port is this emulator's now, and so are the names."""
        if os.geteuid() == 0:
            for path in PAM_DIRECTORY.glob(f"{self._prefix()}*"):
                path.unlink(missing_ok=True)

    def install_service(self, name: str, cluster_arn: str) -> None:
        """``/etc/pam.d/<name>``: the token of a login checked by ``pam_verify.py``."""
        if os.geteuid() != 0:
            log("rds-iam", f"not root: no {PAM_DIRECTORY / name}, so PostgreSQL refuses every "
                           "IAM token (members of rds_iam cannot log in)")
            return
        module = self._compile()
        path = PAM_DIRECTORY / name
        path.write_text(
            "# The TAP emulator's RDS IAM authentication (emulator/runtime/rds_iam.py) for\n"
            f"# {cluster_arn}; removed when the stand-in stops.\n"
            f"auth    required  {module} /usr/bin/python3 {module.parent / VERIFIER} "
            f"{self.url} {cluster_arn}\n"
            "account required  pam_permit.so\n", encoding="utf-8")
        with self._lock:
            self._services.add(path)

    def remove_service(self, name: str) -> None:
        path = PAM_DIRECTORY / name
        with self._lock:
            if path in self._services:
                self._services.discard(path)
                path.unlink(missing_ok=True)

    def _compile(self) -> Path:
        with self._lock:
            if self._module is not None:
                return self._module
            compiler = shutil.which("cc")
            if compiler is None:
                raise StartError("cc is missing: IAM database authentication builds its PAM "
                                 "module (emulator/runtime/pam_exec_token.c) with a C compiler "
                                 "(Debian package gcc)")
            self.directory.mkdir(parents=True, exist_ok=True)
            module = self.directory / "pam_exec_token.so"
            run([compiler, "-shared", "-fPIC", "-O2", "-Wall", "-o", str(module),
                 str(HERE / "pam_exec_token.c"), "-l:libpam.so.0"], what="cc pam_exec_token.c")
            module.chmod(0o755)
            # The postgres OS user runs the verifier: a copy beside the module, because the
            # checkout may sit in a directory only root can enter (``mktemp -d`` makes 0700).
            verifier = self.directory / VERIFIER
            shutil.copyfile(HERE / VERIFIER, verifier)
            verifier.chmod(0o644)
            self._module = module
            return module

    def stop(self) -> None:
        """Remove every PAM service file still there."""
        with self._lock:
            services, self._services = self._services, set()
        for path in services:
            path.unlink(missing_ok=True)
