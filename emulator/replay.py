"""An SDK's repeated attempt of a call the emulator already answered gets that answer again.

Seen in the lives: now and then an SDK sends a call again although the emulator answered its
first attempt with a 200 at once. The request log (``RequestLog`` in emulator/server.py)
showed it in a green dev life of 2026-12-05: three of about 3,000 calls came back as
``attempt=2`` (DescribeDBClusters, GetKeyPolicy, DeleteRule), each first answered 200 in
under a second, with no server error. The answer was lost between the emulator's server and
the SDK; the cause is not found (a Python client sending 3,000 calls on 30 threads lost
none). A lost answer to a create is what breaks an apply: the SDK sends the create again,
moto refuses it as a duplicate (or makes a second one), the apply fails and the first object,
held by no state, outlives the destroy. On AWS such a loss is rare; here it is the emulator's
own defect, so the emulator makes up for it as a reliable network would have: the answer
reaches the SDK.

How: the AWS SDKs name each call with an ``amz-sdk-invocation-id`` header that stays the same
across its attempts, and number the attempts in ``amz-sdk-request: attempt=N; max=M`` (the
SDKs' retry behaviour: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html;
the Go SDK v2 of the provider and botocore both send the two headers). ``Replay`` keeps the
2xx answer of each such call that changes something (any method but GET and HEAD) for
``KEEP_SECONDS``; an attempt after the first of that call gets the kept answer again, and
moto does not run it twice. A call answered with an error is run again, as AWS would (a
throttled or failed attempt is what retries are for). The request log marks a replayed
answer ``replayed``.
"""
from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

KEEP_SECONDS = 300.0  # longer than any SDK's retries of one call last
KEEP_CALLS = 1024  # the newest answers kept, at most
REPLAYED = "tap.replayed"  # set in the WSGI environ of a request answered again
_ATTEMPT = re.compile(r"attempt=(\d+)")


def attempt(environ: dict[str, Any]) -> int:
    """The SDK's attempt number of this request (its ``amz-sdk-request`` header); 1 without
    it."""
    found = _ATTEMPT.search(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return int(found.group(1)) if found else 1


class Replay:
    """WSGI middleware: a changing call's 2xx answer, given again to its later attempts."""

    def __init__(self, app: Callable[..., Any], clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.app = app
        self.clock = clock
        self.lock = threading.Lock()
        # invocation id -> (when, status, headers, body)
        self.answers: OrderedDict[str, tuple[float, str, list[tuple[str, str]], bytes]] = \
            OrderedDict()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
        if not invocation or environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self.app(environ, start_response)
        if attempt(environ) > 1:
            kept = self._kept(invocation)
            if kept is not None:
                environ[REPLAYED] = True
                _, status, headers, body = kept
                start_response(status, headers)
                return [body]
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            answer["status"], answer["headers"] = status, list(headers)
            return start_response(status, headers, *args)

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if str(answer.get("status", "")).startswith("2"):
            self._keep(invocation, answer["status"], answer["headers"], body)
        return [body]

    def _kept(self, invocation: str) -> tuple[float, str, list[tuple[str, str]], bytes] | None:
        with self.lock:
            self._forget_old()
            return self.answers.get(invocation)

    def _keep(self, invocation: str, status: str, headers: list[tuple[str, str]],
              body: bytes) -> None:
        with self.lock:
            self.answers[invocation] = (self.clock(), status, headers, body)
            self.answers.move_to_end(invocation)
            self._forget_old()

    def _forget_old(self) -> None:
        now = self.clock()
        while self.answers and (len(self.answers) > KEEP_CALLS or
                                now - next(iter(self.answers.values()))[0] > KEEP_SECONDS):
            self.answers.popitem(last=False)
