"""S3 upload bodies on the wire: aws-chunked (signed and unsigned, with trailers), HTTP chunked transfer
encoding, Expect: 100-continue, and every integrity check — each bad body answered with S3's error, with no
object and no blob left behind. Requests are signed by botocore's own SigV4 signer and sent with urllib3 or a
raw socket where boto3 itself would not produce the payload format over plain HTTP (it uses aws-chunked only
over HTTPS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import socket
import time
import zlib
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from edgeward.protocol.sigv4 import signing_key
from edgeward.server.assembly import blob_store
from edgeward.server.config import Config
from edgeward.storage.blobs import BlobStore
from tests.serverfixtures import RunningServer

BUCKET = "wire-bucket"
REGION = "us-east-1"
HTTP = urllib3.PoolManager(retries=False)


# ----------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    client = server.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def blobs(server: RunningServer) -> Iterator[BlobStore]:
    """The server's own blob store (its data directory, or its PostgreSQL database)."""
    args = [str(arg) for arg in server.process.args]
    url = args[args.index("--database-url") + 1] if "--database-url" in args else None
    yield blob_store(Config(data_dir=server.data_dir, database_url=url))


def blob_ids(blobs: BlobStore) -> set[str]:
    """Every blob, finished or still being written."""
    return set(blobs.stale(time.time() + 3600))


class PayloadSigner(S3SigV4Auth):
    """botocore's S3 signer, signing the x-amz-content-sha256 it is given (it would hash the body itself)."""

    def __init__(self, credentials: Credentials, payload_hash: str) -> None:
        super().__init__(credentials, "s3", REGION)
        self._payload_hash = payload_hash

    def payload(self, request: AWSRequest) -> str:
        return self._payload_hash


def sign(server: RunningServer, method: str, path: str, headers: dict[str, str]) -> dict[str, str]:
    """The headers of `method path` signed by botocore's S3 SigV4 signer, with the X-Amz-Content-SHA256 given
    in `headers` (default: UNSIGNED-PAYLOAD)."""
    access_key, secret_key = server.admin_keys()
    request = AWSRequest(method=method, url=server.endpoint + path, headers=headers)
    payload_hash = headers.get("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")
    PayloadSigner(Credentials(access_key, secret_key), payload_hash).add_auth(request)
    prepared = request.prepare().headers.items()  # (prepare adds a Content-Length: 0 the body decides instead)
    return {name: str(value) for name, value in prepared if name.lower() != "content-length"}


def put(server: RunningServer, key: str, body: Any, headers: dict[str, str], chunked: bool = False) -> Any:
    signed = sign(server, "PUT", f"/{BUCKET}/{key}", headers)
    return HTTP.request("PUT", f"{server.endpoint}/{BUCKET}/{key}", body=body, headers=signed, chunked=chunked)


def error_code(response: Any) -> str:
    return str(ElementTree.fromstring(response.data).findtext("Code"))


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def assert_absent(s3: Any, key: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=BUCKET, Key=key)
    assert caught.value.response["Error"]["Code"] == "404"


def unsigned_trailer_body(data: bytes, chunk_size: int = 64 * 1024) -> bytes:
    """botocore's own aws-chunked framing with a CRC32 trailer (what it sends over HTTPS)."""
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32", chunk_size=chunk_size
    )
    return bytes(wrapper.read())


def https_style_headers(data: bytes) -> dict[str, str]:
    return {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
    }


class ChunkSigner:
    """Builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body chained to a request's seed signature."""

    def __init__(self, server: RunningServer, signed_headers: dict[str, str]) -> None:
        authorization = signed_headers["Authorization"]
        self.previous = authorization.rsplit("Signature=", 1)[1]
        self.amz_date = signed_headers["X-Amz-Date"]
        self.scope = f"{self.amz_date[:8]}/{REGION}/s3/aws4_request"
        self.key = signing_key(server.admin_keys()[1], self.amz_date[:8], REGION, "s3")

    def _sign(self, kind: str, digest: str, *extra: str) -> str:
        to_sign = "\n".join((kind, self.amz_date, self.scope, self.previous, *extra, digest))
        self.previous = hmac.new(self.key, to_sign.encode(), "sha256").hexdigest()
        return self.previous

    def chunk(self, data: bytes) -> bytes:
        empty = hashlib.sha256(b"").hexdigest()
        signature = self._sign("AWS4-HMAC-SHA256-PAYLOAD", hashlib.sha256(data).hexdigest(), empty)
        return f"{len(data):x};chunk-signature={signature}\r\n".encode() + data + (b"\r\n" if data else b"")

    def body(self, data: bytes, size: int, trailer: str | None = None) -> bytes:
        parts = [self.chunk(data[i : i + size]) for i in range(0, len(data), size)] + [self.chunk(b"")]
        if trailer is None:
            return b"".join(parts) + b"\r\n"
        canonical = f"x-amz-checksum-crc32:{trailer}\n"
        signature = self._sign("AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(canonical.encode()).hexdigest())
        return (
            b"".join(parts) + f"x-amz-checksum-crc32:{trailer}\r\nx-amz-trailer-signature:{signature}\r\n\r\n".encode()
        )


# ----------------------------------------------------------------------------------------- boto3 as is


def test_boto3_put_get_head(s3: Any) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    reply = s3.put_object(Bucket=BUCKET, Key="plain/one", Body=data, ContentType="application/x-test")
    assert reply["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=BUCKET, Key="plain/one")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    head = s3.head_object(Bucket=BUCKET, Key="plain/one")
    assert head["ContentLength"] == len(data) and head["ETag"] == reply["ETag"]
    ranged = s3.get_object(Bucket=BUCKET, Key="plain/one", Range="bytes=1000-")
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert ranged["ContentRange"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    assert ranged["Body"].read() == data[1000:]


def test_conditional_get_304_and_412(s3: Any) -> None:
    etag = s3.put_object(Bucket=BUCKET, Key="cond", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="cond", IfNoneMatch=etag)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="cond", IfMatch='"0123"')
    assert caught.value.response["Error"]["Code"] == "PreconditionFailed"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_304_has_no_body(server: RunningServer, s3: Any) -> None:
    etag = s3.put_object(Bucket=BUCKET, Key="cond304", Body=b"v1")["ETag"]
    headers = sign(
        server, "GET", f"/{BUCKET}/cond304", {"If-None-Match": etag, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    )
    reply = HTTP.request("GET", f"{server.endpoint}/{BUCKET}/cond304", headers=headers)
    assert reply.status == 304 and reply.data == b""


def test_empty_object(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
    assert s3.get_object(Bucket=BUCKET, Key="empty")["Body"].read() == b""


# ----------------------------------------------------------------------------------------- aws-chunked


@pytest.mark.parametrize("chunked_transfer", [True, False])
def test_unsigned_trailer_as_over_https(server: RunningServer, s3: Any, chunked_transfer: bool) -> None:
    """What botocore sends over HTTPS: aws-chunked + CRC32 trailer, HTTP-chunked, no Content-Length."""
    data = b"https style payload " * 10_000
    key = f"chunked/unsigned-{chunked_transfer}"
    reply = put(server, key, unsigned_trailer_body(data), https_style_headers(data), chunked=chunked_transfer)
    assert reply.status == 200, reply.data
    assert reply.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_expect_100_continue(server: RunningServer, s3: Any) -> None:
    data = b"expecting " * 1000
    body = unsigned_trailer_body(data)
    headers = sign(server, "PUT", f"/{BUCKET}/chunked/expect", https_style_headers(data))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    port = int(server.endpoint.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"PUT /{BUCKET}/chunked/expect HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
            "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    assert s3.get_object(Bucket=BUCKET, Key="chunked/expect")["Body"].read() == data


def test_refused_upload_gets_no_100_continue(server: RunningServer) -> None:
    """Authentication happens on the headers: a bad signature is answered before any body is sent."""
    headers = sign(server, "PUT", f"/{BUCKET}/chunked/refused", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    port = int(server.endpoint.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"PUT /{BUCKET}/chunked/refused HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
            "Expect: 100-continue\r\nContent-Length: 1000000\r\n\r\n".encode()
        )
        reply = sock.recv(65536)
        while b"</Error>" not in reply and (more := sock.recv(65536)):
            reply += more
    assert reply.startswith(b"HTTP/1.1 403") and b"SignatureDoesNotMatch" in reply


@pytest.mark.parametrize("trailer", [False, True])
def test_signed_chunks(server: RunningServer, s3: Any, trailer: bool) -> None:
    data = bytes(range(251)) * 400
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": mode,
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    if trailer:
        headers["X-Amz-Trailer"] = "x-amz-checksum-crc32"
    key = f"chunked/signed-{trailer}"
    signed = sign(server, "PUT", f"/{BUCKET}/{key}", headers)
    body = ChunkSigner(server, signed).body(data, 8192, crc32_b64(data) if trailer else None)
    reply = HTTP.request("PUT", f"{server.endpoint}/{BUCKET}/{key}", body=body, headers=signed)
    assert reply.status == 200, reply.data
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_tampered_signed_chunk(server: RunningServer, s3: Any, blobs: BlobStore) -> None:
    data = b"x" * 50_000
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    signed = sign(server, "PUT", f"/{BUCKET}/chunked/tampered", headers)
    body = ChunkSigner(server, signed).body(data, 8192).replace(b"xxxx", b"xxxy", 1)
    before = blob_ids(blobs)
    reply = HTTP.request("PUT", f"{server.endpoint}/{BUCKET}/chunked/tampered", body=body, headers=signed)
    assert (reply.status, error_code(reply)) == (403, "SignatureDoesNotMatch")
    assert_absent(s3, "chunked/tampered")
    assert blob_ids(blobs) == before


# ----------------------------------------------------------------------------------------- bad bodies


def bad_requests(data: bytes) -> dict[str, tuple[dict[str, str], bytes, int, str]]:
    """name -> (headers, body, status, code): each must store nothing."""
    digest = hashlib.sha256(data).hexdigest()
    good_md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    wrong_crc = crc32_b64(data + b"!")
    framed = unsigned_trailer_body(data)
    return {
        "wrong-crc32-header": (
            {"X-Amz-Content-SHA256": digest, "x-amz-checksum-crc32": wrong_crc},
            data,
            400,
            "BadDigest",
        ),
        "wrong-crc32-trailer": (
            https_style_headers(data),
            framed.replace(crc32_b64(data).encode(), wrong_crc.encode()),
            400,
            "BadDigest",
        ),
        "wrong-sha256": (
            {"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()},
            data,
            400,
            "XAmzContentSHA256Mismatch",
        ),
        "wrong-content-md5": (
            {"X-Amz-Content-SHA256": digest, "Content-MD5": base64.b64encode(hashlib.md5(b"o").digest()).decode()},
            data,
            400,
            "BadDigest",
        ),
        "invalid-content-md5": (
            {"X-Amz-Content-SHA256": digest, "Content-MD5": good_md5[:-4]},
            data,
            400,
            "InvalidDigest",
        ),
        "truncated-framing": (https_style_headers(data), framed[: len(framed) // 2], 400, "IncompleteBody"),
        "framing-without-final-chunk": (
            https_style_headers(data),
            framed[: framed.rindex(b"0\r\n")],
            400,
            "IncompleteBody",
        ),
        "garbage-framing": (https_style_headers(data), b"zz\r\n" + data, 400, "InvalidRequest"),
        "short-decoded-length": (
            {**https_style_headers(data), "X-Amz-Decoded-Content-Length": str(len(data) - 1)},
            framed,
            400,
            "IncompleteBody",
        ),
    }


@pytest.mark.parametrize("case", list(bad_requests(b"")))
def test_bad_body_stores_nothing(server: RunningServer, s3: Any, blobs: BlobStore, case: str) -> None:
    data = b"integrity matters " * 5000
    headers, body, status, code = bad_requests(data)[case]
    before = blob_ids(blobs)
    reply = put(server, f"bad/{case}", body, headers)
    assert (reply.status, error_code(reply)) == (status, code), reply.data
    assert_absent(s3, f"bad/{case}")
    assert blob_ids(blobs) == before


def test_overwrite_frees_the_old_blob(s3: Any, blobs: BlobStore) -> None:
    """The handler's after-commit step runs: the replaced object's blob is deleted once the PUT committed."""
    s3.put_object(Bucket=BUCKET, Key="overwritten", Body=b"first")
    before = blob_ids(blobs)
    s3.put_object(Bucket=BUCKET, Key="overwritten", Body=b"second")
    after = blob_ids(blobs)
    assert len(after) == len(before) and after != before
    assert s3.get_object(Bucket=BUCKET, Key="overwritten")["Body"].read() == b"second"


def test_handler_failure_deletes_the_staged_blob(server: RunningServer, blobs: BlobStore) -> None:
    """The body streams into a blob before the handler runs; the handler refuses (no such bucket)."""
    before = blob_ids(blobs)
    headers = sign(server, "PUT", "/no-such-bucket-here/k", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    reply = HTTP.request("PUT", f"{server.endpoint}/no-such-bucket-here/k", body=b"x" * 100_000, headers=headers)
    assert (reply.status, error_code(reply)) == (404, "NoSuchBucket")
    assert blob_ids(blobs) == before


def test_client_disconnect_mid_upload_leaves_nothing(server: RunningServer, s3: Any, blobs: BlobStore) -> None:
    before = blob_ids(blobs)
    headers = sign(server, "PUT", f"/{BUCKET}/gone", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    port = int(server.endpoint.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"PUT /{BUCKET}/gone HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: 20000000\r\n\r\n".encode()
        )
        for _ in range(40):
            sock.sendall(b"z" * 65536)
        # Hang up only once the upload is being written (its blob exists, unfinished).
        assert wait_for(lambda: blob_ids(blobs) != before), "the upload never started"
    assert wait_for(lambda: blob_ids(blobs) == before), "the aborted upload left a blob"
    assert_absent(s3, "gone")


def wait_for(condition: Any, timeout: float = 30.0) -> bool:
    """Poll `condition` until it holds (the server acts on its own time); False if it never did."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
