"""SigV2 (S3): presigned URLs and the `AWS key:signature` header, signed by botocore's own signers."""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from edgeward.protocol import router, sigv2, sigv4
from edgeward.protocol.auth_errors import auth_error
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4 import AuthFailure, AuthFailureKind

AK, SK = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def as_received(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> HttpRequest:
    parts = urlsplit(url)
    return HttpRequest(method, parts.path or "/", parts.query, {"host": parts.netloc, **(headers or {})})


def presign(method: str, params: dict[str, object], expires: int = 300, **config: object) -> str:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://localhost:4566",
        aws_access_key_id=AK,
        aws_secret_access_key=SK,
        config=Config(**config),  # type: ignore[arg-type]
    )
    url: str = client.generate_presigned_url(method, Params=params, ExpiresIn=expires)
    return url


def check(request: HttpRequest, now: float | None = None) -> sigv4.SignedRequest:
    signed = sigv4.read_signature(request)
    assert signed is not None and signed.version == 2
    sigv4.check_time(signed, time.time() if now is None else now)
    sigv4.verify(request, signed, SK, time.time() if now is None else now)
    return signed


def test_boto3_presigns_v2_by_default_and_it_verifies() -> None:
    url = presign("get_object", {"Bucket": "b", "Key": "dir/a key+é.txt"}, s3={"addressing_style": "path"})
    assert "AWSAccessKeyId=" in url and "X-Amz-" not in url
    signed = check(as_received(url))
    assert signed.presigned and signed.access_key_id == AK and signed.service == "s3"


def test_subresources_are_signed() -> None:
    url = presign(
        "upload_part",
        {"Bucket": "b", "Key": "k", "UploadId": "up/1", "PartNumber": 3},
        s3={"addressing_style": "path"},
    )
    request = as_received(url, "PUT")
    check(request)
    tampered = as_received(url.replace("partNumber=3", "partNumber=4"), "PUT")
    with pytest.raises(AuthFailure) as caught:
        check(tampered)
    assert caught.value.kind is AuthFailureKind.BAD_SIGNATURE


def test_virtual_hosted_url_signs_the_bucket_in_the_path() -> None:
    url = presign("get_object", {"Bucket": "bkt", "Key": "k"}, s3={"addressing_style": "virtual"})
    request = as_received(url)
    assert request.host.startswith("bkt.")
    signed = sigv4.read_signature(request)
    assert signed is not None
    with pytest.raises(AuthFailure):
        sigv4.verify(request, signed, SK, time.time())
    sigv4.verify(request, dataclasses.replace(signed, virtual_bucket="bkt"), SK, time.time())


def test_security_token_travels_in_the_query() -> None:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://localhost:4566",
        aws_access_key_id="ASIAEXAMPLE",
        aws_secret_access_key=SK,
        aws_session_token="token/+=",
        config=Config(s3={"addressing_style": "path"}),
    )
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    signed = check(as_received(url))
    assert signed.security_token == "token/+="


def test_expired() -> None:
    url = presign("get_object", {"Bucket": "b", "Key": "k"}, expires=60, s3={"addressing_style": "path"})
    request = as_received(url)
    signed = sigv4.read_signature(request)
    assert signed is not None
    with pytest.raises(AuthFailure) as caught:
        sigv4.check_time(signed, time.time() + 120)
    assert caught.value.kind is AuthFailureKind.PRESIGN_EXPIRED
    error = auth_error("s3", caught.value)
    assert (error.code, error.message, error.status) == ("AccessDenied", "Request has expired", 403)


def test_wrong_secret() -> None:
    url = presign("get_object", {"Bucket": "b", "Key": "k"}, s3={"addressing_style": "path"})
    request = as_received(url)
    signed = sigv4.read_signature(request)
    assert signed is not None
    with pytest.raises(AuthFailure) as caught:
        sigv4.verify(request, signed, "not the secret", time.time())
    error = auth_error("s3", caught.value)
    assert error.code == "SignatureDoesNotMatch"
    assert error.fields["StringToSign"].startswith("GET\n\n\n")


def test_header_form() -> None:
    request = AWSRequest(
        method="PUT",
        url="http://localhost:4566/b/k?acl",
        headers={"Content-Type": "text/plain", "x-amz-meta-a": "1"},
        data=b"x",
    )
    botocore.auth.HmacV1Auth(Credentials(AK, SK)).add_auth(request)
    prepared = request.prepare()
    headers = {k.lower(): str(v) for k, v in prepared.headers.items()}
    received = as_received(prepared.url, "PUT", headers)
    signed = check(received)
    assert not signed.presigned
    with pytest.raises(AuthFailure) as caught:
        sigv4.check_time(signed, time.time() + 3600)  # the ±15 minutes of header signatures
    assert caught.value.kind is AuthFailureKind.EXPIRED_SIGNATURE


@pytest.mark.parametrize(
    "query",
    [
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1643242467&Signature=c2ln",  # not an HMAC-SHA1
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=soon&Signature=Lp6CMNlbxU7oDm1OOubRLqoyrQQ%3D",
        "AWSAccessKeyId=AKIA%2FX&Expires=1&Signature=Lp6CMNlbxU7oDm1OOubRLqoyrQQ%3D",
    ],
)
def test_malformed(query: str) -> None:
    with pytest.raises(AuthFailure) as caught:
        sigv4.read_signature(HttpRequest("GET", "/b/k", query, {"host": "h"}))
    assert caught.value.kind is AuthFailureKind.MALFORMED


def test_two_mechanisms() -> None:
    query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1&Signature=Lp6CMNlbxU7oDm1OOubRLqoyrQQ%3D"
    request = HttpRequest("GET", "/b/k", query, {"host": "h", "authorization": "AWS4-HMAC-SHA256 x"})
    with pytest.raises(AuthFailure, match="Only one auth mechanism"):
        sigv4.read_signature(request)


def test_not_v2() -> None:
    assert sigv2.read_signature(HttpRequest("GET", "/b/k", "Signature=1", {"host": "h"})) is None


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("bkt.s3.amazonaws.com", "bkt"),
        ("my.dotted.bkt.s3.us-west-2.amazonaws.com", "my.dotted.bkt"),
        ("bkt.s3-eu-west-1.amazonaws.com", "bkt"),
        ("bkt.s3.dualstack.us-east-1.amazonaws.com", "bkt"),
        ("s3.us-east-1.amazonaws.com", None),
        ("bkt.localhost:4566", "bkt"),
        ("localhost:4566", None),
        ("bkt.edge.example.com", "bkt"),
        ("edge.example.com:443", None),
        ("127.0.0.1:4566", None),
        ("[::1]:4566", None),
        ("other.example.org", None),
    ],
)
def test_virtual_host_names(host: str, bucket: str | None) -> None:
    """Which Host names a bucket (SigV2 then signs `/<bucket><path>`): AWS's forms and the installation's own."""
    assert router.bucket_from_host(host, ("localhost", "edge.example.com")) == bucket
