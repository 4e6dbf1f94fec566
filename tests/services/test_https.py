"""`edgeward serve --tls`: the API port speaks HTTPS with a certificate from edgeward's CA, and the clients
users run trust it through `<data-dir>/ca.pem` alone — curl `--cacert`, the AWS CLI and boto3 with
`AWS_CA_BUNDLE`. Over HTTPS botocore sends S3 bodies aws-chunked with a CRC32 trailer and HTTP chunked
transfer encoding (no Content-Length), so the S3 round trips here exercise that path end to end.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig

from tests.serverfixtures import PG_ENV, PG_SKIP, RunningServer, drop_postgres, free_port, fresh_postgres_url

MiB = 1024 * 1024
BUCKET = "over-https"


class TlsServer(RunningServer):
    @property
    def ca_bundle(self) -> Path:
        return self.data_dir / "ca.pem"

    def client(self, service: str, *args: Any, **config: Any) -> Any:
        access_key, secret_key = self.admin_keys()
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            verify=str(self.ca_bundle),
            config=BotoConfig(retries={"max_attempts": 1}, **config),
        )

    def env(self) -> dict[str, str]:
        return {**super().env(), "AWS_CA_BUNDLE": str(self.ca_bundle)}


def start_tls_server(data_dir: Path, backend: str, database_url: str | None) -> TlsServer:
    port = free_port()
    args = [
        sys.executable, "-m", "edgeward.cli.main", "serve", "--tls",
        "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port),
        "--mtls-port", "0", "--key-pool-size", "0", "--log-level", "warning",
    ]  # fmt: skip
    if database_url:
        args += ["--database-url", database_url]
    log_path = data_dir.parent / f"{data_dir.name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    server = TlsServer(f"https://127.0.0.1:{port}", data_dir, process, backend)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"edgeward exited early:\n{log_path.read_text()[-3000:]}")
        if server.ca_bundle.exists():
            try:
                context = ssl.create_default_context(cafile=str(server.ca_bundle))
                with urllib.request.urlopen(f"{server.endpoint}/_edgeward/health", timeout=2, context=context):
                    return server
            except OSError:
                pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"edgeward did not become healthy:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    base_url = os.environ.get(PG_ENV)
    if request.param == "postgres" and not base_url:
        pytest.skip(PG_SKIP)
    data_dir = tmp_path_factory.mktemp("edgeward-tls") / "data"
    database_url, db_name = fresh_postgres_url(base_url) if request.param == "postgres" and base_url else (None, None)
    running = start_tls_server(data_dir, request.param, database_url)
    try:
        yield running
    finally:
        running.stop()
        if db_name and base_url:
            drop_postgres(base_url, db_name)


@pytest.fixture(scope="module")
def bucket(server: TlsServer) -> str:
    server.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        for offset in range(0, size, MiB):
            handle.write(os.urandom(min(MiB, size - offset)))
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def aws(server: TlsServer, *args: str) -> str:
    done = subprocess.run(["aws", *args], capture_output=True, text=True, env=server.env(), timeout=300)
    assert done.returncode == 0, done.stderr[-1500:]
    return done.stdout


def curl(*args: str) -> tuple[int, bytes, str]:
    done = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True, timeout=60)
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status or 0), body, done.stderr.decode()


# ----------------------------------------------------------------------------------------- the listener


def test_curl_trusts_the_ca_bundle(server: TlsServer) -> None:
    status, body, _ = curl("--cacert", str(server.ca_bundle), f"{server.endpoint}/_edgeward/health")
    assert status == 200 and body
    status, _, error = curl(f"{server.endpoint}/_edgeward/health")  # the system's trust store knows no edgeward CA
    assert status == 0 and "certificate" in error.lower()
    status, _, _ = curl("--cacert", str(server.ca_bundle), f"https://localhost:{server.endpoint.rsplit(':', 1)[1]}/")
    assert status != 0  # reached over HTTPS under the name `localhost` too (any HTTP status proves the handshake)


def test_plain_http_is_not_served(server: TlsServer) -> None:
    status, _, _ = curl("--max-time", "5", server.endpoint.replace("https://", "http://") + "/_edgeward/health")
    assert status != 200


def test_banner_and_key_file(server: TlsServer) -> None:
    log = (server.data_dir.parent / f"{server.data_dir.name}.log").read_text()
    assert f"export AWS_ENDPOINT_URL={server.endpoint}" in log
    assert f"export AWS_CA_BUNDLE={server.ca_bundle.resolve()}" in log
    key = server.data_dir / "tls" / "api.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert "PRIVATE KEY" in key.read_text()


# ----------------------------------------------------------------------------------------- IAM and STS


def test_iam_and_sts_over_https(server: TlsServer) -> None:
    sts = server.client("sts")
    account = sts.get_caller_identity()["Account"]
    iam = server.client("iam")
    iam.create_user(UserName="over-tls")
    key = iam.create_access_key(UserName="over-tls")["AccessKey"]
    assert any(user["UserName"] == "over-tls" for user in iam.list_users()["Users"])
    user_sts = boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        verify=str(server.ca_bundle),
    )
    assert user_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/over-tls"
    assert f'"Account": "{account}"' in aws(server, "sts", "get-caller-identity")


# ----------------------------------------------------------------------------------------- S3


def test_aws_cli_cp_and_ls(server: TlsServer, bucket: str, tmp_path: Path) -> None:
    """12 MiB up (multipart: two aws-chunked UploadParts with CRC32 trailers), listed, and back down."""
    source = random_file(tmp_path / "big.bin", 12 * MiB)
    small = random_file(tmp_path / "small.bin", 300 * 1024)
    aws(server, "s3", "cp", str(source), f"s3://{bucket}/cli/big.bin")
    aws(server, "s3", "cp", str(small), f"s3://{bucket}/cli/small.bin")
    listing = aws(server, "s3", "ls", f"s3://{bucket}/cli/")
    assert "big.bin" in listing and str(12 * MiB) in listing and "small.bin" in listing
    assert bucket in aws(server, "s3", "ls")
    head = server.client("s3").head_object(Bucket=bucket, Key="cli/big.bin")
    assert head["ContentLength"] == 12 * MiB and head["ETag"].endswith('-2"')
    for name, original in (("big.bin", source), ("small.bin", small)):
        back = tmp_path / f"back-{name}"
        aws(server, "s3", "cp", f"s3://{bucket}/cli/{name}", str(back))
        assert digest(back) == digest(original)


def test_boto3_transfers(server: TlsServer, bucket: str, tmp_path: Path) -> None:
    s3 = server.client("s3")
    source = random_file(tmp_path / "transfer.bin", 20 * MiB)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_file(str(source), bucket, "boto3/transfer.bin", Config=config)
    back = tmp_path / "back.bin"
    s3.download_file(bucket, "boto3/transfer.bin", str(back), Config=config)
    assert digest(back) == digest(source)
    s3.put_object(Bucket=bucket, Key="boto3/small", Body=b"hello over tls")
    reply = s3.get_object(Bucket=bucket, Key="boto3/small", ChecksumMode="ENABLED")
    assert reply["Body"].read() == b"hello over tls"
