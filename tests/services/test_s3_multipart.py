"""Multipart uploads through boto3: parts out of order and in parallel, S3's multipart ETag and composite
checksum, ListParts / ListMultipartUploads, abort, S3's errors; boto3's transfer manager both ways."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

PATH_STYLE = {"addressing_style": "path"}
BUCKET = "multipart-bucket"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    client = server.client("s3", s3=PATH_STYLE)
    client.create_bucket(Bucket=BUCKET)
    return client


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def test_parts_in_parallel_and_out_of_order(s3: Any) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123)]
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big/object", ChecksumAlgorithm="CRC32", Metadata={"a": "b"})
    upload_id = upload["UploadId"]
    assert (upload["ChecksumAlgorithm"], upload["ChecksumType"]) == ("CRC32", "COMPOSITE")

    def send(number: int) -> dict[str, Any]:
        sent = s3.upload_part(
            Bucket=BUCKET, Key="big/object", UploadId=upload_id, PartNumber=number, Body=parts[number - 1],
            ChecksumAlgorithm="CRC32",
        )  # fmt: skip
        return {"PartNumber": number, "ETag": sent["ETag"], "ChecksumCRC32": sent["ChecksumCRC32"]}

    with ThreadPoolExecutor(3) as pool:
        done = sorted(pool.map(send, [3, 1, 2]), key=lambda part: part["PartNumber"])
    listed = s3.list_parts(Bucket=BUCKET, Key="big/object", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 5 * MiB), (2, 5 * MiB), (3, 123)]
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="big/")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big/object", upload_id)]

    completed = s3.complete_multipart_upload(
        Bucket=BUCKET, Key="big/object", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    digest = hashlib.md5(b"".join(hashlib.md5(part).digest() for part in parts)).hexdigest()
    assert completed["ETag"] == f'"{digest}-3"'
    composite = base64.b64encode(crc32(b"".join(crc32(part) for part in parts))).decode()
    assert completed["ChecksumCRC32"] == f"{composite}-3"
    got = s3.get_object(Bucket=BUCKET, Key="big/object")
    assert got["Body"].read() == b"".join(parts)
    assert got["Metadata"] == {"a": "b"}
    assert got["ETag"] == completed["ETag"]
    across = s3.get_object(Bucket=BUCKET, Key="big/object", Range=f"bytes={5 * MiB - 10}-{10 * MiB + 5}")
    assert across["Body"].read() == b"".join(parts)[5 * MiB - 10 : 10 * MiB + 6]
    assert s3.list_multipart_uploads(Bucket=BUCKET, Prefix="big/").get("Uploads", []) == []


def test_complete_refuses_what_s3_refuses(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="refused")["UploadId"]
    small = s3.upload_part(Bucket=BUCKET, Key="refused", UploadId=upload_id, PartNumber=1, Body=b"tiny")
    last = s3.upload_part(Bucket=BUCKET, Key="refused", UploadId=upload_id, PartNumber=2, Body=b"end")
    one, two = {"PartNumber": 1, "ETag": small["ETag"]}, {"PartNumber": 2, "ETag": last["ETag"]}

    def complete(parts: list[dict[str, Any]]) -> Any:
        return s3.complete_multipart_upload(
            Bucket=BUCKET, Key="refused", UploadId=upload_id, MultipartUpload={"Parts": parts}
        )

    for parts, expected in (
        ([one, two], ("EntityTooSmall", 400)),
        ([two, one], ("InvalidPartOrder", 400)),
        ([{"PartNumber": 1, "ETag": '"0000"'}], ("InvalidPart", 400)),
        ([{"PartNumber": 7, "ETag": small["ETag"]}], ("InvalidPart", 400)),
        ([], ("MalformedXML", 400)),
    ):
        with pytest.raises(ClientError) as caught:
            complete(parts)
        assert error(caught) == expected, parts
    assert complete([one])["ETag"].endswith('-1"')  # a single small part is a complete object
    assert s3.get_object(Bucket=BUCKET, Key="refused")["Body"].read() == b"tiny"
    with pytest.raises(ClientError) as caught:
        complete([one])
    assert error(caught) == ("NoSuchUpload", 404)


def test_abort_and_missing_uploads(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="aborted")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert (
        s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=upload_id)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    for call in (
        lambda: s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=upload_id, PartNumber=2, Body=b"y"),
        lambda: s3.list_parts(Bucket=BUCKET, Key="aborted", UploadId=upload_id),
        lambda: s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=upload_id),
        lambda: s3.list_parts(Bucket=BUCKET, Key="other-key", UploadId="not-an-upload"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error(caught) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=BUCKET, Key="aborted")


def test_part_numbers_and_replaced_parts(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="renumbered")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=BUCKET, Key="renumbered", UploadId=upload_id, PartNumber=10001, Body=b"x")
    assert error(caught) == ("InvalidArgument", 400)
    s3.upload_part(Bucket=BUCKET, Key="renumbered", UploadId=upload_id, PartNumber=1, Body=b"old")
    new = s3.upload_part(Bucket=BUCKET, Key="renumbered", UploadId=upload_id, PartNumber=1, Body=b"new")
    parts = s3.list_parts(Bucket=BUCKET, Key="renumbered", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, new["ETag"], 3)]
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="renumbered", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": new["ETag"]}]},
    )  # fmt: skip
    assert s3.get_object(Bucket=BUCKET, Key="renumbered")["Body"].read() == b"new"


def test_list_uploads_pages(s3: Any) -> None:
    ids = [s3.create_multipart_upload(Bucket=BUCKET, Key=f"many/{n}")["UploadId"] for n in range(3)]
    ids.append(s3.create_multipart_upload(Bucket=BUCKET, Key="many/0")["UploadId"])
    seen: list[tuple[str, str]] = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=BUCKET, Prefix="many/", PaginationConfig={"PageSize": 2}
    ):
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
    assert seen == [("many/0", ids[0]), ("many/0", ids[3]), ("many/1", ids[1]), ("many/2", ids[2])]
    rolled = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/")
    assert {"Prefix": "many/"} in rolled["CommonPrefixes"]


def test_transfer_manager_round_trip(s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(12 * MiB + 17))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    s3.upload_file(str(source), BUCKET, "transfer/file.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="transfer/file.bin")
    assert head["ContentLength"] == source.stat().st_size
    assert head["ETag"].endswith('-3"')
    target = tmp_path / "target.bin"
    s3.download_file(BUCKET, "transfer/file.bin", str(target), Config=config)  # parallel ranged GETs + If-Match
    assert target.read_bytes() == source.read_bytes()
