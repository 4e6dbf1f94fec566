"""S3 through the clients users run unchanged: presigned URLs (SigV2 and SigV4) fetched with curl, virtual-hosted
addressing with boto3, the AWS CLI's `s3 cp/ls/presign`, and boto3's transfer manager (multipart upload,
parallel ranged download) with the server's memory staying bounded while ~50 MiB stream through it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

BUCKET = "wire-clients"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    client = server.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def curl(*args: str) -> tuple[int, bytes]:
    """(HTTP status, body) of a curl call."""
    done = subprocess.run(
        ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True, timeout=60, check=True
    )
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


def presigner(server: RunningServer, v4: bool) -> Any:
    """boto3 presigns with SigV2 in us-east-1 by default; `s3v4` switches to SigV4 query auth."""
    if v4:
        return server.client("s3", signature_version="s3v4", s3={"addressing_style": "path"})
    return server.client("s3", s3={"addressing_style": "path"})


# ----------------------------------------------------------------------------------------- presigned URLs


@pytest.mark.parametrize("v4", [False, True], ids=["sigv2", "sigv4"])
def test_presigned_get_and_put_with_curl(server: RunningServer, s3: Any, tmp_path: Path, v4: bool) -> None:
    client = presigner(server, v4)
    key = f"presigned/{'v4' if v4 else 'v2'}/a file+é.txt"
    put_url = client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    assert ("X-Amz-Signature=" in put_url) == v4 and ("AWSAccessKeyId=" in put_url) != v4
    source = tmp_path / "upload.bin"
    source.write_bytes(os.urandom(300_000))
    status, body = curl("-X", "PUT", "-T", str(source), put_url)
    assert status == 200, body
    get_url = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    status, body = curl(get_url)
    assert status == 200 and body == source.read_bytes()
    status, body = curl("-r", "10-19", get_url)
    assert status == 206 and body == source.read_bytes()[10:20]


@pytest.mark.parametrize("v4", [False, True], ids=["sigv2", "sigv4"])
def test_presigned_url_tampered(server: RunningServer, s3: Any, v4: bool) -> None:
    s3.put_object(Bucket=BUCKET, Key="presigned/tamper", Body=b"x")
    url = presigner(server, v4).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "presigned/tamper"}
    )
    status, body = curl(url.replace("presigned/tamper", "presigned/tampe2"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


@pytest.mark.parametrize("v4", [False, True], ids=["sigv2", "sigv4"])
def test_presigned_url_expires(server: RunningServer, s3: Any, v4: bool) -> None:
    s3.put_object(Bucket=BUCKET, Key="presigned/expiring", Body=b"soon gone")
    url = presigner(server, v4).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "presigned/expiring"}, ExpiresIn=1
    )
    time.sleep(2.1)  # the URL's own lifetime, not a performance bound
    status, body = curl(url)
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body and b"<Message>Request has expired</Message>" in body


def test_presigned_v4_expiry_limit(server: RunningServer, s3: Any) -> None:
    url = presigner(server, True).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=604801
    )
    status, body = curl(url)
    assert status == 400 and b"AuthorizationQueryParametersError" in body


def test_aws_cli_presign(server: RunningServer, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="presigned/cli", Body=b"from the cli")
    done = subprocess.run(
        ["aws", "s3", "presign", f"s3://{BUCKET}/presigned/cli", "--expires-in", "120"],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    status, body = curl(done.stdout.strip())
    assert (status, body) == (200, b"from the cli")


def test_sigv2_header_signed_client(server: RunningServer, s3: Any) -> None:
    """boto3 with `signature_version='s3'` signs every request with `Authorization: AWS key:signature`."""
    legacy = server.client("s3", signature_version="s3", s3={"addressing_style": "path"})
    legacy.put_object(Bucket=BUCKET, Key="sigv2/header", Body=b"old school", ContentType="text/plain")
    assert legacy.get_object(Bucket=BUCKET, Key="sigv2/header")["Body"].read() == b"old school"
    assert s3.head_object(Bucket=BUCKET, Key="sigv2/header")["ContentType"] == "text/plain"


# ----------------------------------------------------------------------------------------- virtual hosts


@pytest.fixture
def localhost_subdomains(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve `<bucket>.localhost` to the loopback in this client process (as browsers and systemd do)."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_virtual_hosted_boto3(server: RunningServer, s3: Any, localhost_subdomains: None) -> None:
    port = server.endpoint.rsplit(":", 1)[1]
    virtual = _client_at(server, f"http://localhost:{port}", addressing_style="virtual")
    seen: list[str] = []
    virtual.meta.events.register("before-send", lambda request, **_: seen.append(request.url))
    virtual.put_object(Bucket=BUCKET, Key="virtual/a b.txt", Body=b"virtual host")
    assert seen[-1].startswith(f"http://{BUCKET}.localhost:{port}/virtual/")
    assert virtual.get_object(Bucket=BUCKET, Key="virtual/a b.txt")["Body"].read() == b"virtual host"
    listed = virtual.list_objects_v2(Bucket=BUCKET, Prefix="virtual/")
    assert [item["Key"] for item in listed["Contents"]] == ["virtual/a b.txt"]
    assert s3.get_object(Bucket=BUCKET, Key="virtual/a b.txt")["Body"].read() == b"virtual host"
    url = _client_at(server, f"http://localhost:{port}", addressing_style="virtual").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "virtual/a b.txt"}
    )
    status, body = curl("--resolve", f"{BUCKET}.localhost:{port}:127.0.0.1", url)
    assert (status, body) == (200, b"virtual host")


def _client_at(server: RunningServer, endpoint: str, **s3_config: str) -> Any:
    access_key, secret_key = server.admin_keys()
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=BotoConfig(retries={"max_attempts": 1}, s3=s3_config),
    )


# ----------------------------------------------------------------------------------------- AWS CLI


def test_aws_cli_cp_ls_over_http(server: RunningServer, s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "cli.bin"
    source.write_bytes(os.urandom(20 * MiB))  # over the CLI's 8 MiB multipart threshold
    back = tmp_path / "back.bin"

    def aws(*args: str) -> str:
        done = subprocess.run(["aws", *args], env=server.env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    aws("s3", "cp", str(source), f"s3://{BUCKET}/cli/big.bin")
    assert "big.bin" in aws("s3", "ls", f"s3://{BUCKET}/cli/")
    aws("s3", "cp", f"s3://{BUCKET}/cli/big.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert s3.head_object(Bucket=BUCKET, Key="cli/big.bin")["ETag"].endswith('-3"')


# ----------------------------------------------------------------------------------------- memory


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture
def big_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "big.bin"
    with path.open("wb") as handle:
        for _ in range(50):
            handle.write(os.urandom(MiB))
    yield path


def test_transfer_manager_streams_with_bounded_memory(
    server: RunningServer, s3: Any, big_file: Path, tmp_path: Path
) -> None:
    """50 MiB up (multipart, 10 parts in parallel) and down (parallel ranged GETs) through boto3's transfer
    manager: the server's peak resident memory grows by less than the object's size."""
    pid = server.process.pid
    s3.put_object(Bucket=BUCKET, Key="warm-up", Body=b"x" * MiB)  # threads and pools exist before measuring
    s3.get_object(Bucket=BUCKET, Key="warm-up")["Body"].read()
    baseline = _status_kib(pid, "VmHWM")
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=10)
    s3.upload_file(str(big_file), BUCKET, "big/object", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="big/object")
    assert head["ContentLength"] == 50 * MiB and head["ETag"].endswith('-7"')
    target = tmp_path / "down.bin"
    s3.download_file(BUCKET, "big/object", str(target), Config=config)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(big_file.read_bytes()).digest()
    growth_mib = (_status_kib(pid, "VmHWM") - baseline) / 1024
    # The wire side holds at most two 1 MiB batches per upload and one chunk per download; the PostgreSQL blob
    # store one chunk buffer per upload and a quarter chunk per download (plus libpq's buffers per pooled
    # connection): a bound per stream, whatever the object's size. (Before it streamed, PostgreSQL grew by
    # ~140 MiB here.)
    print(f"server peak memory growth {growth_mib:.1f} MiB ({server.backend})")
    assert growth_mib < 40, f"server peak memory grew by {growth_mib:.0f} MiB for a 50 MiB object"


def test_ranges(s3: Any) -> None:
    data = bytes(range(256)) * 100
    s3.put_object(Bucket=BUCKET, Key="ranges", Body=data)
    for header, expected in (("bytes=0-0", data[:1]), ("bytes=-10", data[-10:]), ("bytes=25000-", data[25000:])):
        reply = s3.get_object(Bucket=BUCKET, Key="ranges", Range=header)
        assert reply["Body"].read() == expected
        assert reply["ResponseMetadata"]["HTTPStatusCode"] == 206
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="ranges", Range=f"bytes={len(data)}-")
    assert caught.value.response["Error"]["Code"] == "InvalidRange"
