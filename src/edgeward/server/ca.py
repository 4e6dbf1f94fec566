"""The installation's CA at start-up: created once, exported as `<data-dir>/ca.pem`, and the TLS certificates
of edgeward's own listeners.

`ca.pem` holds the root followed by the issuing CA. With both in the trust file, `openssl verify -CAfile ca.pem
device.pem` and `curl --cacert ca.pem` work with the leaf alone, like AWS's AmazonRootCA1.pem does for AWS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edgeward.core import clock
from edgeward.pki.authority import create_issuing, create_root
from edgeward.pki.issue import issue_server_certificate
from edgeward.pki.pem import certificate_pem
from edgeward.protocol.http import HttpResponse
from edgeward.server.config import Config
from edgeward.storage.database import Database
from edgeward.storage.repos.authorities import Authorities, load_authorities, save_authorities
from edgeward.storage.secrets import SecretBox

CA_FILENAME = "ca.pem"
PEM_CONTENT_TYPE = "application/x-pem-file"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = ("0.0.0.0", "::", "")

log = logging.getLogger("edgeward.ca")


def ca_path(config: Config) -> Path:
    return config.data_dir / CA_FILENAME


def ensure_authorities(config: Config, db: Database, box: SecretBox) -> Authorities:
    """The installation's root and issuing CA, created on the first start; (re)writes `ca.pem` every start."""
    with db.read() as conn:
        authorities = load_authorities(conn, box)
    if authorities is None:
        authorities = _create_authorities(db, box)
    write_bundle(ca_path(config), authorities.bundle_pem())
    return authorities


def _create_authorities(db: Database, box: SecretBox) -> Authorities:
    # Generated outside the transaction; when another node's commit wins the race, its CA is the one used.
    now = clock.now()
    label = secrets.token_hex(4)
    root = create_root(f"edgeward Root CA {label}", now=now)
    issuing = create_issuing(root, f"edgeward Issuing CA {label}", now=now)
    with db.transaction() as conn:
        created = save_authorities(conn, box, root, issuing)
        authorities = load_authorities(conn, box)
    assert authorities is not None  # just saved, or saved by the node that won
    if created:
        log.info("created the certificate authority %r", f"edgeward Root CA {label}")
    return authorities


@contextlib.contextmanager
def authorities_kept(db: Database, box: SecretBox) -> Iterator[None]:
    """Dev-mode reset: the CA outlives the wipe, so `ca.pem`, devices' trust and the listeners' TLS
    certificates stay valid across `POST /_edgeward/reset`."""
    with db.read() as conn:
        kept = load_authorities(conn, box)
    yield
    if kept is not None:
        with db.transaction() as conn:
            save_authorities(conn, box, kept.root, kept.issuing)


def write_bundle(path: Path, bundle_pem: str) -> None:
    """Replace `path` atomically with the bundle, world-readable (0644): it holds certificates only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o644)  # whatever the umask
            handle.write(bundle_pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def listener_hosts(config: Config) -> list[str]:
    """The names clients may use for edgeward's listeners: public host names, the bind address, loopback."""
    hosts = [*config.public_hosts]
    if config.host not in _WILDCARD_BINDS:
        hosts.append(config.host)
    hosts.extend(LOOPBACK_HOSTS)
    return list(dict.fromkeys(host.strip("[]").lower() for host in hosts))


def server_certificate(authorities: Authorities, hosts: Sequence[str]) -> tuple[bytes, bytes]:
    """A fresh TLS server certificate for `hosts`: (leaf + issuing CA chain PEM, private key PEM).

    The key is new on every call and lives only in the caller's memory (and whatever file the caller hands
    to its TLS library).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = issue_server_certificate(authorities.issuing, key.public_key(), hosts, now=clock.now())
    chain = certificate_pem(leaf) + authorities.issuing.certificate_pem()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain.encode("ascii"), key_pem


def ca_bundle_response(config: Config) -> HttpResponse:
    """`GET /_edgeward/ca.pem`: the same bundle as `ca.pem`, no authentication (it is public)."""
    try:
        body = ca_path(config).read_bytes()
    except FileNotFoundError:
        body = b""
    if not body:
        message = b'{"message": "The CA bundle is not available yet; restart edgeward serve to create it."}'
        return HttpResponse(503, [("content-type", "application/json")], message)
    return HttpResponse(200, [("content-type", PEM_CONTENT_TYPE)], body)
