"""S3 buckets through boto3 (path-style): create with location constraints, list, head, location, delete,
S3's errors for names, duplicates, non-empty buckets and missing buckets."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

PATH_STYLE = {"addressing_style": "path"}


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    return server.client("s3", s3=PATH_STYLE)


def error(caught: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    found: dict[str, Any] = caught.value.response["Error"]
    found["Status"] = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return found


def test_create_list_head_locate_delete(s3: Any) -> None:
    created = s3.create_bucket(Bucket="alpha-bucket")
    assert created["Location"] == "/alpha-bucket"
    listed = s3.list_buckets()
    names = [bucket["Name"] for bucket in listed["Buckets"]]
    assert "alpha-bucket" in names
    assert len(listed["Owner"]["ID"]) == 64
    head = s3.head_bucket(Bucket="alpha-bucket")
    assert head["BucketRegion"] == "us-east-1"
    assert s3.get_bucket_location(Bucket="alpha-bucket")["LocationConstraint"] is None
    assert s3.delete_bucket(Bucket="alpha-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "alpha-bucket" not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize(
    "name",
    ["ab", "Upper-Case", "double..dot", "192.168.5.4", "-leading", "trailing-", "xn--punycode", "x" * 64, "dot.-dash"],
)
def test_invalid_bucket_names(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=name)
    assert error(caught)["Code"] == "InvalidBucketName"
    assert error(caught)["Status"] == 400


def test_recreating_your_bucket(server: RunningServer, s3: Any) -> None:
    s3.create_bucket(Bucket="mine-twice")
    s3.create_bucket(Bucket="mine-twice")  # us-east-1 answers 200 for a bucket you own (legacy behaviour)
    europe = server.client("s3", region="eu-west-1", s3=PATH_STYLE)
    config = {"LocationConstraint": "eu-west-1"}
    europe.create_bucket(Bucket="mine-in-europe", CreateBucketConfiguration=config)
    with pytest.raises(ClientError) as caught:
        europe.create_bucket(Bucket="mine-in-europe", CreateBucketConfiguration=config)
    assert error(caught)["Code"] == "BucketAlreadyOwnedByYou"
    assert error(caught)["Status"] == 409
    assert europe.get_bucket_location(Bucket="mine-in-europe")["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket="mine-in-europe")["BucketRegion"] == "eu-west-1"


def test_location_constraints_must_match_the_endpoint(server: RunningServer, s3: Any) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket="elsewhere-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error(caught)["Code"] == "IllegalLocationConstraintException"
    europe = server.client("s3", region="eu-west-1", s3=PATH_STYLE)
    with pytest.raises(ClientError) as caught:
        europe._make_api_call("CreateBucket", {"Bucket": "unspecified-bucket"})
    assert error(caught)["Code"] == "IllegalLocationConstraintException"
    assert "unspecified location constraint" in error(caught)["Message"]


def test_only_empty_buckets_can_be_deleted(s3: Any) -> None:
    s3.create_bucket(Bucket="full-bucket")
    s3.put_object(Bucket="full-bucket", Key="thing", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket="full-bucket")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket="full-bucket", Key="thing")
    s3.create_multipart_upload(Bucket="full-bucket", Key="unfinished")  # goes with the bucket, as in S3
    s3.delete_bucket(Bucket="full-bucket")


def test_missing_buckets(s3: Any) -> None:
    for call in (
        lambda: s3.delete_bucket(Bucket="no-such-bucket-here"),
        lambda: s3.get_bucket_location(Bucket="no-such-bucket-here"),
        lambda: s3.list_objects_v2(Bucket="no-such-bucket-here"),
        lambda: s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert (error(caught)["Code"], error(caught)["Status"]) == ("NoSuchBucket", 404)
        assert error(caught)["BucketName"] == "no-such-bucket-here"
    with pytest.raises(ClientError) as caught:
        s3.head_bucket(Bucket="no-such-bucket-here")
    assert error(caught)["Status"] == 404  # HEAD: no body, botocore reports the status


def test_list_buckets_pages(s3: Any) -> None:
    for index in range(3):
        s3.create_bucket(Bucket=f"paged-bucket-{index}")
    first = s3.list_buckets(Prefix="paged-bucket-", MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == ["paged-bucket-0", "paged-bucket-1"]
    rest = s3.list_buckets(Prefix="paged-bucket-", MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["paged-bucket-2"]
    assert "ContinuationToken" not in rest


def test_users_need_permissions(server: RunningServer, s3: Any) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="bucketless")
    key = iam.create_access_key(UserName="bucketless")["AccessKey"]
    user = server.client("s3", key["AccessKeyId"], key["SecretAccessKey"], s3=PATH_STYLE)
    with pytest.raises(ClientError) as caught:
        user.create_bucket(Bucket="not-allowed-bucket")
    assert (error(caught)["Code"], error(caught)["Status"]) == ("AccessDenied", 403)
    assert "s3:CreateBucket on resource: arn:aws:s3:::not-allowed-bucket" in error(caught)["Message"]
    with pytest.raises(ClientError) as caught:
        user.list_buckets()
    assert error(caught)["Code"] == "AccessDenied"
    assert "not-allowed-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
