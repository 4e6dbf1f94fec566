"""S3 objects through boto3 (path-style): put/get/head with metadata and content headers, ETags and checksums,
ranges (206, 416), conditional requests (304, 412), deletes, DeleteObjects, CopyObject, and S3's errors."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

PATH_STYLE = {"addressing_style": "path"}
BUCKET = "objects-bucket"
DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    client = server.client("s3", s3=PATH_STYLE)
    client.create_bucket(Bucket=BUCKET)
    return client


def error(caught: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    found: dict[str, Any] = caught.value.response["Error"]
    found["Status"] = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return found


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_put_get_head_round_trip(s3: Any) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    put = s3.put_object(
        Bucket=BUCKET,
        Key="docs/report.bin",
        Body=DATA,
        Metadata={"Owner": "edge", "stage": "one"},
        ContentType="application/x-report",
        ContentDisposition='attachment; filename="report.bin"',
        CacheControl="max-age=60",
        ContentLanguage="en",
        Expires=expires,
    )
    assert put["ETag"] == f'"{hashlib.md5(DATA).hexdigest()}"'
    assert put["ChecksumCRC32"] == crc32_b64(DATA)  # botocore sends CRC32; S3 echoes it
    got = s3.get_object(Bucket=BUCKET, Key="docs/report.bin")
    assert got["Body"].read() == DATA
    assert got["ETag"] == put["ETag"]
    assert got["Metadata"] == {"owner": "edge", "stage": "one"}
    assert got["ContentType"] == "application/x-report"
    assert got["ContentDisposition"] == 'attachment; filename="report.bin"'
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentLanguage"] == "en"
    assert got["ContentLength"] == len(DATA)
    assert got["AcceptRanges"] == "bytes"
    head = s3.head_object(Bucket=BUCKET, Key="docs/report.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(DATA)
    assert head["ETag"] == put["ETag"]
    assert head["ChecksumCRC32"] == crc32_b64(DATA)
    assert head["Expires"] == expires
    assert abs(head["LastModified"] - datetime.now(UTC)) < timedelta(minutes=5)


def test_defaults_and_empty_objects(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
    got = s3.get_object(Bucket=BUCKET, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == f'"{hashlib.md5(b"").hexdigest()}"'


def test_overwrite_replaces(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="twice", Body=b"first", Metadata={"v": "1"})
    s3.put_object(Bucket=BUCKET, Key="twice", Body=b"second")
    got = s3.get_object(Bucket=BUCKET, Key="twice")
    assert got["Body"].read() == b"second"
    assert "v" not in got["Metadata"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 9), ("bytes=10-", 10, len(DATA) - 1), ("bytes=-100", len(DATA) - 100, len(DATA) - 1),
     ("bytes=10000-99999", 10000, len(DATA) - 1), ("bytes=-999999", 0, len(DATA) - 1)],
)  # fmt: skip
def test_ranges(s3: Any, header: str, start: int, end: int) -> None:
    s3.put_object(Bucket=BUCKET, Key="ranged", Body=DATA)
    got = s3.get_object(Bucket=BUCKET, Key="ranged", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {start}-{end}/{len(DATA)}"
    assert got["ContentLength"] == end - start + 1
    assert got["Body"].read() == DATA[start : end + 1]


def test_ranges_s3_ignores_and_refuses(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="ranged2", Body=DATA)
    whole = s3.get_object(Bucket=BUCKET, Key="ranged2", Range="bytes=9-2")  # not satisfiable syntax: ignored
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert whole["Body"].read() == DATA
    for header in (f"bytes={len(DATA)}-", "bytes=99999-100000", "bytes=-0"):
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=BUCKET, Key="ranged2", Range=header)
        assert (error(caught)["Code"], error(caught)["Status"]) == ("InvalidRange", 416)
        assert error(caught)["ActualObjectSize"] == str(len(DATA))
        assert error(caught)["RangeRequested"] == header


def test_conditional_requests(s3: Any) -> None:
    etag = s3.put_object(Bucket=BUCKET, Key="conditional", Body=b"abc")["ETag"]
    past, future = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    assert s3.get_object(Bucket=BUCKET, Key="conditional", IfMatch=etag)["Body"].read() == b"abc"
    for extra, status in (
        ({"IfMatch": '"0123"'}, 412),
        ({"IfUnmodifiedSince": past}, 412),
        ({"IfNoneMatch": etag}, 304),
        ({"IfNoneMatch": "*"}, 304),
        ({"IfModifiedSince": future}, 304),
    ):
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=BUCKET, Key="conditional", **extra)
        assert error(caught)["Status"] == status, extra
        if status == 412:
            assert error(caught)["Code"] == "PreconditionFailed"
        with pytest.raises(ClientError) as caught:
            s3.head_object(Bucket=BUCKET, Key="conditional", **extra)
        assert error(caught)["Status"] == status, extra
    # Precedence: a matching If-Match overrides If-Unmodified-Since; a non-matching If-None-Match overrides
    # If-Modified-Since.
    assert s3.get_object(Bucket=BUCKET, Key="conditional", IfMatch=etag, IfUnmodifiedSince=past)["ETag"] == etag
    assert s3.get_object(Bucket=BUCKET, Key="conditional", IfNoneMatch='"x"', IfModifiedSince=future)["ETag"] == etag
    assert s3.get_object(Bucket=BUCKET, Key="conditional", IfModifiedSince=past)["ETag"] == etag


def test_conditional_writes(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="once", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=BUCKET, Key="once", Body=b"2", IfNoneMatch="*")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=BUCKET, Key="once")["Body"].read() == b"1"


def test_missing_keys(s3: Any) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="nothing/here")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("NoSuchKey", 404)
    assert error(caught)["Key"] == "nothing/here"
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=BUCKET, Key="nothing/here")
    assert error(caught)["Status"] == 404


def test_bad_input_stores_nothing(s3: Any) -> None:
    long_key = "k" * 1025
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=BUCKET, Key=long_key, Body=b"x")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("KeyTooLongError", 400)
    s3.put_object(Bucket=BUCKET, Key="é" * 512, Body=b"x")  # 1024 bytes of UTF-8 is the limit, inclusive
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=BUCKET, Key="bad-md5", Body=b"payload", ContentMD5=wrong_md5)
    assert (error(caught)["Code"], error(caught)["Status"]) == ("BadDigest", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=BUCKET, Key="bad-crc", Body=b"payload", ChecksumCRC32=crc32_b64(b"other"))
    assert (error(caught)["Code"], error(caught)["Status"]) == ("BadDigest", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=BUCKET, Key="big-meta", Body=b"x", Metadata={"m": "v" * 2100})
    assert error(caught)["Code"] == "MetadataTooLarge"
    for key in ("bad-md5", "bad-crc", "big-meta"):
        with pytest.raises(ClientError):
            s3.head_object(Bucket=BUCKET, Key=key)


def test_delete_object_and_objects(s3: Any) -> None:
    for key in ("del/a", "del/b", "del/c"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    assert s3.delete_object(Bucket=BUCKET, Key="del/a")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=BUCKET, Key="del/a")["ResponseMetadata"]["HTTPStatusCode"] == 204  # idempotent
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "del/b"}, {"Key": "del/missing"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["del/b", "del/missing"]
    quiet = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "del/c"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="del/")["KeyCount"] == 0


def test_copy_object(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="copy/source", Body=DATA, Metadata={"origin": "src"}, ContentType="text/x")
    copied = s3.copy_object(Bucket=BUCKET, Key="copy/same-meta", CopySource=f"{BUCKET}/copy/source")
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(DATA).hexdigest()}"'
    got = s3.get_object(Bucket=BUCKET, Key="copy/same-meta")
    assert got["Body"].read() == DATA
    assert (got["Metadata"], got["ContentType"]) == ({"origin": "src"}, "text/x")
    s3.copy_object(
        Bucket=BUCKET,
        Key="copy/new-meta",
        CopySource={"Bucket": BUCKET, "Key": "copy/source"},
        MetadataDirective="REPLACE",
        Metadata={"fresh": "yes"},
    )
    assert s3.head_object(Bucket=BUCKET, Key="copy/new-meta")["Metadata"] == {"fresh": "yes"}
    s3.delete_object(Bucket=BUCKET, Key="copy/source")  # the copies own their bytes
    assert s3.get_object(Bucket=BUCKET, Key="copy/same-meta")["Body"].read() == DATA


def test_copy_object_errors(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="copy/self", Body=b"me")
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=BUCKET, Key="copy/self", CopySource=f"{BUCKET}/copy/self")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("InvalidRequest", 400)
    s3.copy_object(
        Bucket=BUCKET, Key="copy/self", CopySource=f"{BUCKET}/copy/self", MetadataDirective="REPLACE"
    )  # changing the metadata makes a self-copy legal
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=BUCKET, Key="copy/x", CopySource=f"{BUCKET}/copy/absent")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=BUCKET, Key="copy/x", CopySource=f"{BUCKET}/copy/self", CopySourceIfMatch='"nope"')
    assert (error(caught)["Code"], error(caught)["Status"]) == ("PreconditionFailed", 412)


def test_permissions_per_key(server: RunningServer, s3: Any) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="half-deleter")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:DeleteObject", "s3:GetObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/mine/*",
            }
        ],
    }
    iam.put_user_policy(UserName="half-deleter", PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="half-deleter")["AccessKey"]
    user = server.client("s3", key["AccessKeyId"], key["SecretAccessKey"], s3=PATH_STYLE)
    s3.put_object(Bucket=BUCKET, Key="mine/1", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="theirs/1", Body=b"x")
    result = user.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "mine/1"}, {"Key": "theirs/1"}]})
    assert [d["Key"] for d in result["Deleted"]] == ["mine/1"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("theirs/1", "AccessDenied")]
    s3.head_object(Bucket=BUCKET, Key="theirs/1")
    # Without s3:ListBucket a missing key is AccessDenied, not NoSuchKey: S3 does not reveal what is absent.
    with pytest.raises(ClientError) as caught:
        user.get_object(Bucket=BUCKET, Key="mine/absent")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("AccessDenied", 403)
