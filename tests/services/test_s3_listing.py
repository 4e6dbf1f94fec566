"""ListObjectsV2 and ListObjects through boto3: byte order, prefixes, delimiters and common prefixes,
pagination by continuation token, start-after and marker, and encoding-type=url for awkward keys."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

PATH_STYLE = {"addressing_style": "path"}
BUCKET = "listing-bucket"
KEYS = [
    "a.txt",
    "B.txt",
    "dir/one",
    "dir/sub/two",
    "dir/sub/three",
    "dir2/x",
    "dir/zz",
    "space key",
    "plus+key",
    "ünïcode/ü",
    "amp&<lt>",
    "z",
]


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    client = server.client("s3", s3=PATH_STYLE)
    client.create_bucket(Bucket=BUCKET)
    for key in KEYS:
        client.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    return client


def s3_order(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda key: key.encode())  # UTF-8 binary order, as S3 lists


def test_lists_everything_in_byte_order(s3: Any) -> None:
    listed = s3.list_objects_v2(Bucket=BUCKET)
    assert [item["Key"] for item in listed["Contents"]] == s3_order(KEYS)
    assert listed["KeyCount"] == len(KEYS)
    assert listed["IsTruncated"] is False
    first = listed["Contents"][0]
    assert set(first) >= {"Key", "LastModified", "ETag", "Size", "StorageClass"}
    assert first["StorageClass"] == "STANDARD"


def test_delimiter_and_prefix(s3: Any) -> None:
    top = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "dir2/", "ünïcode/"]
    assert "dir/one" not in [item["Key"] for item in top["Contents"]]
    inside = s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/", Delimiter="/")
    assert [item["Key"] for item in inside["Contents"]] == ["dir/one", "dir/zz"]
    assert [p["Prefix"] for p in inside["CommonPrefixes"]] == ["dir/sub/"]
    assert inside["KeyCount"] == 3
    nothing = s3.list_objects_v2(Bucket=BUCKET, Prefix="nope/")
    assert nothing["KeyCount"] == 0 and "Contents" not in nothing


@pytest.mark.parametrize("page_size", [1, 2, 3, 5])
def test_pages_with_continuation_tokens(s3: Any, page_size: int) -> None:
    expected_keys = [k for k in s3_order(KEYS) if "/" not in k]
    expected_prefixes = ["dir/", "dir2/", "ünïcode/"]
    keys: list[str] = []
    prefixes: list[str] = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Delimiter="/", PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        assert page["KeyCount"] <= page_size
        keys += [item["Key"] for item in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert keys == expected_keys
    assert prefixes == expected_prefixes


def test_v1_pages_by_marker(s3: Any) -> None:
    keys: list[str] = []
    prefixes: list[str] = []
    for page in s3.get_paginator("list_objects").paginate(
        Bucket=BUCKET, Delimiter="/", PaginationConfig={"PageSize": 2}
    ):
        keys += [item["Key"] for item in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if page["IsTruncated"]:
            assert page["NextMarker"]
    assert keys == [k for k in s3_order(KEYS) if "/" not in k]
    assert prefixes == ["dir/", "dir2/", "ünïcode/"]
    flat = s3.list_objects(Bucket=BUCKET, Marker="dir/sub/two", MaxKeys=2)
    assert [item["Key"] for item in flat["Contents"]] == ["dir/zz", "dir2/x"]
    assert flat["IsTruncated"] is True
    assert "Owner" in flat["Contents"][0]


def test_start_after(s3: Any) -> None:
    listed = s3.list_objects_v2(Bucket=BUCKET, StartAfter="dir/sub/three", Prefix="dir/")
    assert [item["Key"] for item in listed["Contents"]] == ["dir/sub/two", "dir/zz"]
    assert listed["StartAfter"] == "dir/sub/three"


def test_url_encoding_of_keys(server: RunningServer, s3: Any) -> None:
    # botocore asks for encoding-type=url and decodes; the raw response must carry encoded keys.
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="amp")
    assert [item["Key"] for item in listed["Contents"]] == ["amp&<lt>"]
    raw: dict[str, Any] = {}

    def keep(http_response: Any, **_: Any) -> None:
        raw["body"] = http_response.content.decode()

    s3.meta.events.register("after-call.s3.ListObjectsV2", keep)
    try:
        s3.list_objects_v2(Bucket=BUCKET, Prefix="space")
    finally:
        s3.meta.events.unregister("after-call.s3.ListObjectsV2", keep)
    assert f"<Key>{quote('space key', safe='/')}</Key>" in raw["body"]
    assert "<EncodingType>url</EncodingType>" in raw["body"]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="plus")["Contents"][0]["Key"] == "plus+key"


def test_bad_continuation_token(s3: Any) -> None:
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket=BUCKET, ContinuationToken="%%%not-base64%%%")
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"


def test_list_needs_list_bucket(server: RunningServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="no-lister")
    key = iam.create_access_key(UserName="no-lister")["AccessKey"]
    user = server.client("s3", key["AccessKeyId"], key["SecretAccessKey"], s3=PATH_STYLE)
    with pytest.raises(ClientError) as caught:
        user.list_objects_v2(Bucket=BUCKET)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert f"s3:ListBucket on resource: arn:aws:s3:::{BUCKET}" in caught.value.response["Error"]["Message"]
