"""The emulated VPC's network services: addresses, names and certificates.

What an AWS VPC gives the things that run in it, on one machine's loopback:

- ``Addresses``: a loopback address per running thing, as awsvpc gives each task and each
  Aurora or cache endpoint its own IP: tasks in 127.0.1.0/24, database stand-ins in
  127.0.2.0/24, cache stand-ins in 127.0.3.0/24, Application Load Balancers in 127.0.4.0/24,
  CloudFront distributions in 127.0.5.0/24 (Linux routes all of 127/8 to ``lo``). Every one
  listens on the port AWS would use (5432, 6379, the container's port, a listener's port, 80
  and 443), never clashing.
- ``Hosts``: the VPC's DNS, as a hosts file (``name address`` lines) that the task runner
  bind-mounts over ``/etc/hosts`` in each task's own mount namespace, so that the endpoint
  names the stack hands to the container (``tap-dev-aurora.cluster-....rds.amazonaws.com``)
  resolve to their stand-ins, for the task's processes only.
- ``Authority``: a certificate authority of the emulator's own, made at start (a new key each
  time): it signs the stand-ins' server certificates for their endpoint names, and its
  certificate is the trust bundle the local images get where the real image has the RDS CA
  bundle and the public CAs (TLS with certificate verification, offline).

Exposes ``Network`` (the three together, under one state directory).
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

POOLS = {"task": "127.0.1.0/24", "database": "127.0.2.0/24", "cache": "127.0.3.0/24",
         "balancer": "127.0.4.0/24", "distribution": "127.0.5.0/24"}
CERTIFICATE_DAYS = 30
OFFSET_VARIABLE = "TAP_EMULATOR_ADDRESS_OFFSET"
COMMON_NAME_LIMIT = 64


class Addresses:
    """Loopback addresses by kind, handed out once and given back when released."""

    def __init__(self, start: int | None = None) -> None:
        self._lock = threading.Lock()
        # Each emulator may hand its pools out from an offset of its own
        # (TAP_EMULATOR_ADDRESS_OFFSET, default 0), so that emulators side by side on one
        # machine (lives run in parallel) do not reach for the same address at the same
        # moment; the callers still check that an address is free before they serve on it.
        if start is None:
            start = int(os.environ.get(OFFSET_VARIABLE) or 0)
        offset = start % 250
        self._free = {kind: hosts[offset:] + hosts[:offset] for kind, hosts in (
            (kind, [str(host) for host in ipaddress.ip_network(cidr).hosts()])
            for kind, cidr in POOLS.items())}

    def take(self, kind: str) -> str:
        """A free address of ``kind``; RuntimeError when the pool is exhausted."""
        with self._lock:
            if not self._free[kind]:
                raise RuntimeError(f"no free loopback address left for a {kind}")
            return self._free[kind].pop(0)

    def give_back(self, kind: str, address: str) -> None:
        with self._lock:
            self._free[kind].append(address)


class Hosts:
    """The hosts file: one address per name, rewritten whole at each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}
        self._write()

    def set(self, name: str, address: str) -> None:
        with self._lock:
            self._names[name] = address
            self._write()

    def remove(self, name: str) -> None:
        with self._lock:
            self._names.pop(name, None)
            self._write()

    def lookup(self, name: str) -> str | None:
        return self._names.get(name)

    def _write(self) -> None:
        lines = ["127.0.0.1 localhost", *(f"{address} {name}" for name, address
                                          in sorted(self._names.items()))]
        text = ("\n".join(lines) + "\n").encode("utf-8")
        # Rewritten in place, never replaced: running tasks see the file through a bind mount
        # of its inode over their /etc/hosts, so a name added later (a restored cluster, a new
        # cache) reaches them too. One write(2) of a few hundred bytes: a reader sees the old
        # or the new text.
        with open(self.path, "ab+") as handle:
            handle.seek(0)
            handle.truncate()
            handle.write(text)


class Authority:
    """The emulator's CA: ``bundle`` is its certificate (PEM); ``issue`` signs server
    certificates."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TAP emulator CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self._name = name
        self._certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(self._key, hashes.SHA256()))
        self.bundle = directory / "ca.pem"
        self.bundle.write_bytes(self._certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, label: str, names: list[str], *, client: bool = False) -> tuple[Path, Path]:
        """A server certificate for ``names`` (DNS names; the first is the subject), signed by
        this CA: the paths of its certificate and its private key (mode 0600). ``client``:
        good for TLS client authentication too (a Redis Cluster node presents its certificate
        to its peers on the cluster bus, which always verify it)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        # A common name holds at most 64 characters (RFC 5280's ub-common-name) and endpoint
        # names are often longer (tap-pr4892-aurora.cluster-ro-<12>.<region>.rds.amazonaws.com);
        # clients check the names in subjectAltName, so a longer first name goes without a
        # common name, and an empty subject makes subjectAltName critical (RFC 5280 4.2.1.6).
        fits = len(names[0]) <= COMMON_NAME_LIMIT
        subject = [x509.NameAttribute(NameOID.COMMON_NAME, names[0])] if fits else []
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(self._name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=not fits)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH]
                + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])), critical=False)
            .sign(self._key, hashes.SHA256()))
        certificate_path = self.directory / f"{label}.crt"
        key_path = self.directory / f"{label}.key"
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        return certificate_path, key_path


class Network:
    """Addresses, the hosts file and the CA of one emulator, under ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self.addresses = Addresses()
        self.hosts = Hosts(state_dir / "hosts")
        self.authority = Authority(state_dir / "tls")
