"""The origin's protocol changed on a live environment, the site answering throughout.

  viewer-domain  before the first deploy: two certificates for ``app.<suffix>.tap-e2e.example``
                 imported into ACM (self-signed: their names are what matters here; the
                 emulator serves each endpoint with a certificate of its own CA for the same
                 names), one in us-east-1 for the viewers, one in the stack's region for the
                 load balancer; ``DOMAIN_NAMES`` and ``EDGE_CERTIFICATE_ARN`` set, so the site
                 is ``https://app.<suffix>.tap-e2e.example/`` (``viewer_url``) from the start
  origin-https   ``CERTIFICATE_ARN`` set and applied while a viewer asks the site for
                 /readyz twice a second (through the emulated CloudFront and load balancer:
                 emulator/runtime/edge.py): every answer must be 200 — the VPC origin is
                 replaced (create before destroy, never updated in use), the HTTPS listener's
                 rule exists before the distribution moves, port 80 redirects only after;
                 then the integration suite, over the HTTPS origin
  origin-http    ``CERTIFICATE_ARN`` unset and applied, the viewer asking again: every answer
                 200

The change table (tests/e2e/changes.py) says "applied" for the changes these phases apply.
"""
from __future__ import annotations

import datetime
import threading
import time
from collections import Counter
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulator.runtime.proxy import UpstreamError
from emulator.runtime.viewer import fetch
from tests.e2e.harness import GLOBAL_REGION, PhaseFailed, Run, errors
from tests.e2e.phases import deployed_outputs, integration, outputs
from tests.e2e.runtime import runtime_dir

PROBE_EVERY = 0.5  # seconds between two viewer requests
PROBE_PATH = "/readyz"


def domain(run: Run) -> str:
    """The site's own name."""
    return f"app.{run.suffix}.tap-e2e.example"


def viewer_domain(run: Run) -> None:
    """The viewers' certificate and the load balancer's, imported; the site's own name."""
    names = domain(run)
    edge = _import(run, names, GLOBAL_REGION)
    regional = _import(run, names, run.region)
    run.settings_env.update({"DOMAIN_NAMES": names, "EDGE_CERTIFICATE_ARN": edge})
    run.report.app["origin"] = {"domain": names, "certificate": regional}


def origin_https(run: Run) -> None:
    """CERTIFICATE_ARN set: the origin goes HTTPS while the site answers; the suite passes."""
    statuses = _apply_probed(run, {"CERTIFICATE_ARN": run.report.app["origin"]["certificate"]})
    listeners = _listeners(run)
    if ("HTTPS", 443) not in listeners:
        raise PhaseFailed(f"origin-https: the load balancer listens on {listeners}, no HTTPS")
    run.report.app["origin"]["https"] = statuses
    outputs(run)  # the VPC origin was replaced: the suite reads the new one
    integration(run)


def origin_http(run: Run) -> None:
    """CERTIFICATE_ARN unset: the origin goes back to HTTP while the site answers."""
    run.report.app["origin"]["http"] = _apply_probed(run, {"CERTIFICATE_ARN": None})
    outputs(run)
    listeners = _listeners(run)
    if ("HTTPS", 443) in listeners:
        raise PhaseFailed(f"origin-http: the HTTPS listener is still there: {listeners}")


def _apply_probed(run: Run, settings: dict[str, str | None]) -> dict[str, int]:
    """Apply the settings while a viewer asks the site; the answers counted. PhaseFailed
    unless every one was 200."""
    for name, value in settings.items():
        if value is None:
            run.settings_env.pop(name, None)
        else:
            run.settings_env[name] = value
    run.allow_destroy = False
    run.synth(again=True)
    url = f"https://{domain(run)}{PROBE_PATH}"
    viewer = _Viewer(url, run)
    with viewer:
        code, text = run.apply(check=False)
        time.sleep(5)  # what the viewers see right after the apply, too
    run.check_state_unlocked()
    if code != 0:
        raise PhaseFailed(f"{run.phase}: the deploy exited {code}:\n{errors(text)}")
    counts = dict(sorted(Counter(str(status) for status, _ in viewer.answers).items()))
    bad = [f"{seconds:.1f}s: {status}" for status, seconds in viewer.answers if status != 200]
    if bad or not viewer.answers:
        raise PhaseFailed(f"{run.phase}: the site did not answer 200 throughout the change "
                          f"({counts}); first failures: {bad[:5]}")
    return counts


def _listeners(run: Run) -> list[tuple[str, int]]:
    elb = run.client("elbv2")
    arn = deployed_outputs(run)["alb_arn"]
    return sorted((listener["Protocol"], listener["Port"])
                  for listener in elb.describe_listeners(LoadBalancerArn=arn)["Listeners"])


def _import(run: Run, name: str, region: str) -> str:
    """A self-signed certificate for ``name`` imported into ACM in ``region``; its ARN."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    answer = run.client("acm", region).import_certificate(
        Certificate=certificate.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return str(answer["CertificateArn"])


class _Viewer:
    """While open, asks ``url`` every PROBE_EVERY seconds; ``answers``: (status, seconds)."""

    def __init__(self, url: str, run: Run) -> None:
        self.url, self.runtime = url, runtime_dir(run)
        self.answers: list[tuple[Any, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._ask, daemon=True)
        self._start = time.monotonic()

    def _ask(self) -> None:
        while not self._stop.wait(PROBE_EVERY):
            try:
                status: Any = fetch(self.url, runtime_dir=self.runtime, timeout=10).status
            except (LookupError, UpstreamError, OSError) as error:
                status = f"{type(error).__name__}: {error}"
            self.answers.append((status, time.monotonic() - self._start))

    def __enter__(self) -> _Viewer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
