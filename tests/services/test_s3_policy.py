"""Bucket policies through boto3: stored and returned as written, validated in S3's words, and evaluated as
resource-based policies with every request (an allow for a user ARN grants, an explicit deny wins)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

PATH_STYLE = {"addressing_style": "path"}
BUCKET = "policy-bucket"


@pytest.fixture(scope="module")
def s3(server: RunningServer) -> Any:
    client = server.client("s3", s3=PATH_STYLE)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="shared/doc", Body=b"shared")
    client.put_object(Bucket=BUCKET, Key="private/doc", Body=b"private")
    return client


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def user_client(server: RunningServer, name: str, identity_policy: str | None = None) -> tuple[Any, str]:
    iam = server.client("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if identity_policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=identity_policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("s3", key["AccessKeyId"], key["SecretAccessKey"], s3=PATH_STYLE), arn


def test_put_get_delete(s3: Any) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=BUCKET)
    assert error(caught) == ("NoSuchBucketPolicy", 404)
    document = policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/x/*"}
    )
    s3.put_bucket_policy(Bucket=BUCKET, Policy=document)
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == document
    assert s3.delete_bucket_policy(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=BUCKET)
    assert error(caught) == ("NoSuchBucketPolicy", 404)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        (policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}),
         "Missing required field Principal"),
        (policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}),
         "Policy has invalid resource"),
    ],
)  # fmt: skip
def test_malformed_policies(s3: Any, document: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=document)
    assert error(caught) == ("MalformedPolicy", 400)
    assert caught.value.response["Error"]["Message"] == message


def test_bucket_policy_grants_and_denies(server: RunningServer, s3: Any) -> None:
    reader, reader_arn = user_client(server, "policy-reader")
    with pytest.raises(ClientError) as caught:
        reader.get_object(Bucket=BUCKET, Key="shared/doc")
    assert error(caught) == ("AccessDenied", 403)
    s3_admin_everything = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    writer, _ = user_client(server, "policy-writer", s3_admin_everything)
    s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": reader_arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/shared/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/shared/*",
            },
        ),
    )
    try:
        # A resource-based allow naming the user grants without any identity policy.
        assert reader.get_object(Bucket=BUCKET, Key="shared/doc")["Body"].read() == b"shared"
        with pytest.raises(ClientError) as caught:
            reader.get_object(Bucket=BUCKET, Key="private/doc")
        assert error(caught) == ("AccessDenied", 403)
        # An explicit deny in the bucket policy beats the identity policy's allow.
        with pytest.raises(ClientError) as caught:
            writer.put_object(Bucket=BUCKET, Key="shared/new", Body=b"x")
        assert error(caught) == ("AccessDenied", 403)
        assert "explicit deny in a resource-based policy" in caught.value.response["Error"]["Message"]
        writer.put_object(Bucket=BUCKET, Key="private/new", Body=b"x")
    finally:
        s3.delete_bucket_policy(Bucket=BUCKET)
