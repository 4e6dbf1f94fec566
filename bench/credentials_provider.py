"""Credentials provider speed: new-connection exchanges per second next to `openssl s_server`, and
keep-alive exchanges per second on persistent connections.

    .venv/bin/python bench/credentials_provider.py [--seconds 10] [--clients 2] [--workers 1]

1. Starts `edgeward serve` (SQLite in a temporary data directory, or `--database-url`) with its mTLS listener
   and sets up one device as seed 001 does (CreateKeysAndCertificate: an RSA-2048 key, thing, alias policy,
   role alias).
2. New connections: `openssl s_time -new` (one full mutual-TLS handshake per connection, the device's
   RSA-2048 key signing, then `GET /role-aliases/<alias>/credentials` over HTTP/1.0, which closes) against
   edgeward, and the same command against `openssl s_server -www` given a server certificate from the same
   CA (EC P-256, like edgeward's listener) and `-Verify` (it requires and verifies the client certificate).
   `--clients` s_time processes run at once against each; the figure is the sum of their connections/s.
3. Keep-alive: `--clients` processes each keep `--connections` TLS connections open, each sending exchange
   after exchange (HTTP/1.1, one at a time per connection, no pipelining), counting 200 replies.
Every exchange edgeward answers issues a real STS session (a committed row).
"""

from __future__ import annotations

import argparse
import configparser
import json
import multiprocessing
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "credentials.iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_edgeward(data_dir: Path, workers: int, database_url: str | None) -> tuple[subprocess.Popen[bytes], int, int]:
    port, mtls_port = free_port(), free_port()
    args = [sys.executable, "-m", "edgeward.cli.main", "serve", "--data-dir", str(data_dir), "--port", str(port)]
    args += ["--mtls-port", str(mtls_port), "--workers", str(workers), "--log-level", "warning"]
    # No pool of pre-generated RSA keys: filling it (CreateKeysAndCertificate's) would be measured too.
    args += ["--key-pool-size", "0"]
    if database_url:
        args += ["--database-url", database_url]
    # A session of its own: the server and its workers are one process group, whose CPU can be read.
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_edgeward/health", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    time.sleep(1.5)  # the mTLS listener starts right after the API
    return process, port, mtls_port


def set_up_device(data_dir: Path, port: int) -> tuple[Path, Path, str]:
    parser = configparser.ConfigParser()
    parser.read(data_dir / "credentials")
    keys = parser["default"]
    session = boto3.Session(
        aws_access_key_id=keys["aws_access_key_id"],
        aws_secret_access_key=keys["aws_secret_access_key"],
        region_name="us-east-1",
    )
    kw = {"endpoint_url": f"http://127.0.0.1:{port}", "config": BotoConfig(retries={"max_attempts": 1})}
    iam, iot = session.client("iam", **kw), session.client("iot", **kw)
    role = iam.create_role(RoleName="BenchDeviceRole", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    alias_arn = iot.create_role_alias(roleAlias="BenchAlias", roleArn=role)["roleAliasArn"]
    created = iot.create_keys_and_certificate(setAsActive=True)
    cert, key = data_dir / "device.pem.crt", data_dir / "private.pem.key"
    cert.write_text(created["certificatePem"])
    key.write_text(created["keyPair"]["PrivateKey"])
    document = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": alias_arn},
    }
    iot.create_policy(policyName="bench-alias", policyDocument=json.dumps(document))
    iot.attach_policy(policyName="bench-alias", target=created["certificateArn"])
    return cert, key, "/role-aliases/BenchAlias/credentials"


def openssl_server_files(data_dir: Path) -> tuple[Path, Path]:
    """A server certificate from edgeward's own CA (what its listener presents), for `openssl s_server`."""
    from edgeward.server.ca import server_certificate
    from edgeward.storage.database import Database, sqlite_url
    from edgeward.storage.repos.authorities import load_authorities
    from edgeward.storage.secrets import SecretBox

    db = Database(sqlite_url(data_dir))
    with db.read() as conn:
        authorities = load_authorities(conn, SecretBox.load_or_create(data_dir / "kek"))
    db.dispose()
    assert authorities is not None
    chain, key = server_certificate(authorities, ["127.0.0.1", "localhost"])
    chain_path, key_path = data_dir / "s_server.crt", data_dir / "s_server.key"
    chain_path.write_bytes(chain)
    key_path.write_bytes(key)
    return chain_path, key_path


def s_time(port: int, cert: Path, key: Path, ca: Path, path: str, seconds: int, clients: int) -> float:
    """Connections per second summed over `clients` concurrent `openssl s_time -new` runs."""
    command = ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-cert", str(cert), "-key", str(key)]
    command += ["-CAfile", str(ca), "-new", "-time", str(seconds), "-www", path]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(clients)
    ]
    total = 0.0
    for run in runs:
        output, _ = run.communicate()
        match = re.search(r"(\d+) connections in ([\d.]+) real seconds", output)
        if match is None:
            raise RuntimeError(f"unexpected s_time output:\n{output}")
        total += int(match.group(1)) / float(match.group(2))
    return total


def _keep_alive_client(args: tuple[int, str, str, str, str, float, int]) -> tuple[int, int]:
    """One client process: `connections` threads, each with its own persistent TLS connection."""
    *job, connections = args
    with ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(lambda _: _keep_alive_connection(*job), range(connections)))  # type: ignore[misc]
    return sum(ok for ok, _ in results), sum(failed for _, failed in results)


def _keep_alive_connection(port: int, cert: str, key: str, ca: str, path: str, seconds: float) -> tuple[int, int]:
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    ok = failed = 0
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1") as sock:
        buffer = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sock.sendall(request)
            while b"\r\n\r\n" not in buffer:
                buffer += sock.recv(65536)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            while len(buffer) < length:
                buffer += sock.recv(65536)
            buffer = buffer[length:]
            if head.startswith(b"HTTP/1.1 200 "):
                ok += 1
            else:
                failed += 1
    return ok, failed


def keep_alive(
    port: int, cert: Path, key: Path, ca: Path, path: str, seconds: int, clients: int, connections: int
) -> tuple[float, int]:
    job = (port, str(cert), str(key), str(ca), path, float(seconds), connections)
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(_keep_alive_client, [job] * clients)
    return sum(ok for ok, _ in results) / seconds, sum(failed for _, failed in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections per client process")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgeward-bench-") as temp:
        data_dir = Path(temp) / "data"
        process, port, mtls_port = start_edgeward(data_dir, args.workers, args.database_url)
        openssl_server = None
        try:
            cert, key, path = set_up_device(data_dir, port)
            ca = data_dir / "ca.pem"
            check = subprocess.run(
                ["curl", "-sS", "--fail", "--cacert", str(ca), "--cert", str(cert), "--key", str(key),
                 f"https://127.0.0.1:{mtls_port}{path}"], capture_output=True, text=True, check=False,
            )  # fmt: skip
            if check.returncode != 0:
                raise RuntimeError(f"the device cannot get credentials: {check.stderr}")
            chain, server_key = openssl_server_files(data_dir)
            s_port = free_port()
            openssl_server = subprocess.Popen(
                ["openssl", "s_server", "-accept", str(s_port), "-cert", str(chain), "-key", str(server_key),
                 "-CAfile", str(ca), "-Verify", "1", "-www", "-quiet"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(0.5)
            database = args.database_url or "sqlite"
            print(f"workers={args.workers} clients={args.clients} seconds={args.seconds} database={database}")
            ours = s_time(mtls_port, cert, key, ca, path, args.seconds, args.clients)
            theirs = s_time(s_port, cert, key, ca, path, args.seconds, args.clients)
            print(f"new connections (full mTLS handshake + exchange): edgeward {ours:8.1f}/s")
            print(f"new connections (full mTLS handshake, s_server -www): openssl {theirs:8.1f}/s")
            print(f"  ratio edgeward/openssl: {ours / theirs:.0%}")
            rate, failed = keep_alive(mtls_port, cert, key, ca, path, args.seconds, args.clients, args.connections)
            connections = args.clients * args.connections
            print(f"keep-alive exchanges ({connections} connections): edgeward {rate:8.1f}/s ({failed} non-200)")
        finally:
            if openssl_server is not None:
                openssl_server.terminate()
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
