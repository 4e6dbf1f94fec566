"""The installation's CA as operators and devices meet it: `ca.pem` in the data directory, the same bundle over
`GET /_edgeward/ca.pem` and `edgeward ca export`, stable across restarts; device and server certificates that
`openssl verify -CAfile ca.pem` and `curl --cacert ca.pem` accept with the leaf alone, over real (m)TLS.
"""

from __future__ import annotations

import http.server
import os
import ssl
import stat
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509

from edgeward.core import clock
from edgeward.pki.issue import issue_device_certificate
from edgeward.pki.keys import generate_rsa_key, private_key_pem
from edgeward.pki.pem import certificate_pem, is_self_signed, signed_by
from edgeward.server.ca import authorities_kept, ca_path, ensure_authorities, listener_hosts, server_certificate
from edgeward.server.config import Config
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos.authorities import Authorities, load_authorities
from edgeward.storage.secrets import SecretBox
from tests.serverfixtures import RunningServer, free_port, start_server


def database_url(server: RunningServer) -> str:
    args = [str(arg) for arg in server.process.args]  # type: ignore[union-attr]
    return args[args.index("--database-url") + 1] if "--database-url" in args else sqlite_url(server.data_dir)


def server_authorities(server: RunningServer) -> Authorities:
    """The CA as the server stored it, opened with the server's own key-encryption key file."""
    db = Database(database_url(server))
    try:
        with db.read() as conn:
            authorities = load_authorities(conn, SecretBox.load_or_create(server.data_dir / "kek"))
    finally:
        db.dispose()
    assert authorities is not None
    return authorities


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)


def edgeward(*args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "edgeward.cli.main", *args)


def pem_certificates(text: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(text.encode())


def test_ca_pem_holds_root_then_issuing_ca(server: RunningServer) -> None:
    path = server.data_dir / "ca.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    root, issuing = pem_certificates(path.read_text())
    assert is_self_signed(root) and signed_by(issuing, root)
    stored = server_authorities(server)
    assert stored.root.certificate == root and stored.issuing.certificate == issuing
    assert "PRIVATE" not in path.read_text()


def test_ca_bundle_over_http_needs_no_credentials(server: RunningServer) -> None:
    with urllib.request.urlopen(f"{server.endpoint}/_edgeward/ca.pem", timeout=10) as reply:
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/x-pem-file"
        body = reply.read()
    assert body == (server.data_dir / "ca.pem").read_bytes()
    head = run("curl", "-sS", "--fail", "-I", f"{server.endpoint}/_edgeward/ca.pem")
    assert head.returncode == 0 and "application/x-pem-file" in head.stdout


def test_ca_export_prints_and_writes_the_same_bundle(server: RunningServer, tmp_path: Path) -> None:
    where = (
        ["--data-dir", str(server.data_dir)] if server.backend == "sqlite" else ["--database-url", database_url(server)]
    )
    printed = edgeward("ca", "export", *where)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == (server.data_dir / "ca.pem").read_text()
    out = tmp_path / "exported.pem"
    written = edgeward("ca", "export", *where, "--out", str(out))
    assert written.returncode == 0 and written.stdout == ""
    assert out.read_text() == printed.stdout


def test_ca_export_explains_a_missing_installation(tmp_path: Path) -> None:
    result = edgeward("ca", "export", "--data-dir", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "no edgeward database" in result.stderr


def test_device_certificate_verifies_with_openssl_against_ca_pem_alone(server: RunningServer, tmp_path: Path) -> None:
    authorities = server_authorities(server)
    device = issue_device_certificate(authorities.issuing, generate_rsa_key().public_key(), now=clock.now())
    leaf = tmp_path / "device.pem.crt"
    leaf.write_text(certificate_pem(device))
    ca = str(server.data_dir / "ca.pem")
    for options in ([], ["-purpose", "sslclient", "-x509_strict"]):
        result = run("openssl", "verify", *options, "-CAfile", ca, str(leaf))
        assert result.returncode == 0 and result.stdout.strip() == f"{leaf}: OK", result.stdout + result.stderr


def test_restart_keeps_the_ca_and_rewrites_a_lost_ca_pem(tmp_path: Path) -> None:
    data = tmp_path / "data"
    start_server(data).stop()
    first = (data / "ca.pem").read_text()
    (data / "ca.pem").unlink()
    second = start_server(data)
    try:
        assert (data / "ca.pem").read_text() == first
        with urllib.request.urlopen(f"{second.endpoint}/_edgeward/ca.pem", timeout=10) as reply:
            assert reply.read().decode() == first
    finally:
        second.stop()


@pytest.fixture
def installation(database: Database, tmp_path: Path) -> tuple[Config, Database, SecretBox]:
    """What `edgeward serve` prepares, on SQLite and PostgreSQL: a data directory and a migrated database."""
    return Config(data_dir=tmp_path / "data", public_hosts=("edge.example.test",)), database, SecretBox.generate()


def test_ensure_authorities_creates_once_and_writes_the_bundle(
    installation: tuple[Config, Database, SecretBox],
) -> None:
    config, db, box = installation
    first = ensure_authorities(config, db, box)
    again = ensure_authorities(config, db, box)
    assert again.root.certificate == first.root.certificate
    assert again.issuing.certificate == first.issuing.certificate
    assert ca_path(config).read_text() == first.bundle_pem()


def test_dev_reset_keeps_the_ca(installation: tuple[Config, Database, SecretBox]) -> None:
    config, db, box = installation
    before = ensure_authorities(config, db, box)
    with authorities_kept(db, box):
        db.wipe()
    with db.read() as conn:
        after = load_authorities(conn, box)
    assert after is not None and after.bundle_pem() == before.bundle_pem()


def test_listener_hosts() -> None:
    config = Config(public_hosts=("edge.example.test",))
    assert listener_hosts(config) == ["edge.example.test", "127.0.0.1", "localhost", "::1"]
    assert listener_hosts(Config(host="0.0.0.0", public_hosts=("[2001:db8::1]", "Edge"))) == [
        "2001:db8::1",
        "edge",
        "localhost",
        "127.0.0.1",
        "::1",
    ]


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        peer = self.connection.getpeercert()
        body = b"client-cert" if peer else b"anonymous"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def tls_server(authorities: Authorities, hosts: list[str], tmp: Path, *, client_ca: Path | None) -> Iterator[int]:
    """A TLS listener on loopback with edgeward's server certificate, optionally demanding client certificates."""
    chain, key = server_certificate(authorities, hosts)
    (tmp / "server.pem").write_bytes(chain)
    (tmp / "server.key").write_bytes(key)
    os.chmod(tmp / "server.key", 0o600)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "server.pem", tmp / "server.key")
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(client_ca))
    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Hello)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_curl_trusts_the_listeners_and_devices_authenticate_over_mtls(
    installation: tuple[Config, Database, SecretBox], tmp_path: Path
) -> None:
    config, db, box = installation
    authorities = ensure_authorities(config, db, box)
    ca = str(ca_path(config))
    key = generate_rsa_key()
    (tmp_path / "device.pem.crt").write_text(
        certificate_pem(issue_device_certificate(authorities.issuing, key.public_key(), now=clock.now()))
    )
    (tmp_path / "private.pem.key").write_text(private_key_pem(key))
    device = ["--cert", str(tmp_path / "device.pem.crt"), "--key", str(tmp_path / "private.pem.key")]
    with tls_server(authorities, listener_hosts(config), tmp_path, client_ca=ca_path(config)) as port:
        for host in ("localhost", "127.0.0.1"):
            ok = run("curl", "-sS", "--fail", "--cacert", ca, *device, f"https://{host}:{port}/")
            assert ok.returncode == 0 and ok.stdout == "client-cert", ok.stderr
        resolved = ["--resolve", f"edge.example.test:{port}:127.0.0.1"]
        ok = run("curl", "-sS", "--fail", "--cacert", ca, *resolved, *device, f"https://edge.example.test:{port}/")
        assert ok.returncode == 0, ok.stderr
        no_cert = run("curl", "-sS", "--fail", "--cacert", ca, f"https://localhost:{port}/")
        assert no_cert.returncode != 0
        untrusted = run("curl", "-sS", "--fail", *device, f"https://localhost:{port}/")  # system CAs only
        assert untrusted.returncode == 60  # peer certificate cannot be authenticated
        wrong_name = run(
            "curl",
            "-sS",
            "--fail",
            "--cacert",
            ca,
            *device,
            "--resolve",
            f"other.test:{port}:127.0.0.1",
            f"https://other.test:{port}/",
        )
        assert wrong_name.returncode == 60
