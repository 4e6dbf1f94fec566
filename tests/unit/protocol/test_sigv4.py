"""SigV4 verification against requests signed by botocore, boto3 clients, curl and the AWS CLI."""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.auth
import botocore.crt.auth
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from edgeward.core.errors import ServiceError
from edgeward.protocol import sigv4
from edgeward.protocol.auth_errors import auth_error
from edgeward.protocol.catalog import SERVICES
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4 import AuthFailure, AuthFailureKind, SignedRequest

Kind = AuthFailureKind

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEJr//////////wEaDM+token/with+plus=="
ENDPOINT = "http://127.0.0.1:4566"
SIGNED_AT = dt.datetime(2022, 1, 27, 0, 14, 27, tzinfo=dt.UTC)
NOW = float(calendar.timegm(SIGNED_AT.utctimetuple()))


@pytest.fixture(autouse=True)
def frozen_signing_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs with SIGNED_AT; tests verify at NOW unless they move the clock."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: SIGNED_AT.replace(tzinfo=None))
    # With awscrt installed botocore signs with the CRT signer, which reads the clock through its own module.
    monkeypatch.setattr(
        botocore.crt.auth,
        "get_current_datetime",
        lambda remove_tzinfo=True: SIGNED_AT.replace(tzinfo=None) if remove_tzinfo else SIGNED_AT,
    )


# ----------------------------------------------------------------------------------------- helpers


def to_http(prepared: AWSPreparedRequest) -> HttpRequest:
    """The request as a server receives it: raw path and query from the URL, lower-cased headers, the body."""
    parts = urlsplit(prepared.url)
    headers: dict[str, str] = {"host": parts.netloc}
    for name, value in prepared.headers.items():
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        lowered = name.lower()
        if lowered == "host":  # botocore's CRT signer sets Host itself
            headers[lowered] = text
            continue
        headers[lowered] = f"{headers[lowered]},{text}" if lowered in headers else text
    return HttpRequest(prepared.method, parts.path or "/", parts.query, headers, _body(prepared.body))


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return bytes(body.read())


def sign(
    signing_name: str,
    method: str = "GET",
    url: str = f"{ENDPOINT}/",
    *,
    data: bytes | str | dict[str, str] | None = None,
    params: dict[str, str] | list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    presign: int | None = None,
    secret: str = SK,
    region: str = "us-east-1",
    signer_class: type[botocore.auth.SigV4Auth] | None = None,
) -> HttpRequest:
    request = AWSRequest(method=method, url=url, data=data, params=params, headers=headers)
    credentials = Credentials(AK, secret, token)
    signer: botocore.auth.SigV4Auth
    if signer_class is not None:
        signer = signer_class(credentials, signing_name, region)
    elif presign is not None:
        query_cls = botocore.auth.S3SigV4QueryAuth if signing_name == "s3" else botocore.auth.SigV4QueryAuth
        signer = query_cls(credentials, signing_name, region, expires=presign)
    else:
        header_cls = botocore.auth.S3SigV4Auth if signing_name == "s3" else botocore.auth.SigV4Auth
        signer = header_cls(credentials, signing_name, region)
    signer.add_auth(request)
    return to_http(request.prepare())


def check(request: HttpRequest, secret: str = SK, now: float = NOW) -> SignedRequest:
    signed = sigv4.read_signature(request)
    assert signed is not None
    sigv4.verify(request, signed, secret, now)
    return signed


def failure_of(request: HttpRequest, secret: str = SK, now: float = NOW) -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        check(request, secret, now)
    return caught.value


def with_header(request: HttpRequest, name: str, value: str | None) -> HttpRequest:
    headers = dict(request.headers)
    if value is None:
        headers.pop(name, None)
    else:
        headers[name] = value
    return replace(request, headers=headers, _cache={})


SIGNING_NAMES = sorted(set(SERVICES.values()))

PATHS = [
    "/",
    "/things/my-thing",
    "/things/a%20b",
    "/things/%C3%A9t%C3%A9%20%E2%9C%93",
    "/things/a%2Fb",
    "/a/./b/../c",
    "/x//y/",
    "/role-aliases/a%3Db%40c/credentials",
    "/k/~tilde/%25percent",
]


# ----------------------------------------------------------------------------------------- botocore signers


@pytest.mark.parametrize("signing_name", SIGNING_NAMES)
@pytest.mark.parametrize("path", PATHS)
def test_header_signature_verifies_for_every_path(signing_name: str, path: str) -> None:
    signed = check(sign(signing_name, "GET", f"{ENDPOINT}{path}"))
    assert signed.service == signing_name
    assert signed.access_key_id == AK
    assert signed.region == "us-east-1"
    assert signed.date == "20220127"
    assert signed.amz_date == "20220127T001427Z"
    assert not signed.presigned


@pytest.mark.parametrize("signing_name", SIGNING_NAMES)
def test_raw_non_ascii_path_as_decoded_by_the_server(signing_name: str) -> None:
    # A client that sends UTF-8 bytes unencoded; the server decodes the path as UTF-8.
    check(sign(signing_name, "GET", f"{ENDPOINT}/things/\u00e9t\u00e9"))


@pytest.mark.parametrize("signing_name", SIGNING_NAMES)
@pytest.mark.parametrize(
    "query",
    [
        "a=1&b=x%20y",
        "k=2&k=1&k=10",
        "prefix=%C3%A9t%C3%A9%2F%20~&list-type=2",
        "uploads=",
        "z=&a=&m=%2A%2B%21",
        "a-b=1&a=2&a.b=3",
    ],
)
def test_query_in_url(signing_name: str, query: str) -> None:
    check(sign(signing_name, "GET", f"{ENDPOINT}/b/k?{query}"))


@pytest.mark.parametrize("signing_name", SIGNING_NAMES)
def test_query_from_params_sent_form_encoded(signing_name: str) -> None:
    # botocore signs params RFC 3986-encoded but sends them with urlencode ('+' for a space).
    params = [("a b", "c+d e"), ("k", "\u00e9~*"), ("k", "0"), ("slash", "x/y")]
    request = sign(signing_name, "GET", f"{ENDPOINT}/", params=params)
    assert "+" in request.query_string
    check(request)


@pytest.mark.parametrize("signing_name", SIGNING_NAMES)
@pytest.mark.parametrize("body", [b"", b"Action=GetCallerIdentity&Version=2011-06-15", b"\x00\xff binary"])
@pytest.mark.parametrize("token", [None, TOKEN])
def test_bodies_and_session_tokens(signing_name: str, body: bytes, token: str | None) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    signed = check(sign(signing_name, "POST", f"{ENDPOINT}/", data=body, headers=headers, token=token))
    assert signed.security_token == token


def test_date_header_instead_of_x_amz_date() -> None:
    request = sign("sts", "POST", f"{ENDPOINT}/", data=b"Action=X", headers={"Date": "whatever"})
    assert "x-amz-date" not in request.headers
    assert request.headers["date"] == "Thu, 27 Jan 2022 00:14:27 -0000"
    assert check(request).amz_date == "20220127T001427Z"


def test_header_whitespace_is_canonicalized() -> None:
    request = sign("sts", "POST", data=b"x", headers={"X-Amz-Meta-Note": "  a   b \t c  "})
    check(request)
    check(with_header(request, "x-amz-meta-note", "a b c"))


@pytest.mark.parametrize(
    "value",
    ["plain", " a ", "a  b", "a\tb", "a\nb", "a\u00a0b", "\u2003a", "a\x1fb", "a\x85b", "é  ü", "", "   "],
)
def test_header_values_trim_like_botocore(value: str) -> None:
    request = HttpRequest("GET", "/", "", {"x-v": value})
    expected = botocore.auth.SigV4Auth(None, "s", "r")._header_value(value)
    assert sigv4.canonical_headers(request, ("x-v",)) == f"x-v:{expected}\n"


def test_unsigned_headers_may_change() -> None:
    request = sign("sts", "POST", data=b"x", headers={"User-Agent": "ua/1"})
    assert "user-agent" not in check(request).signed_headers
    check(with_header(request, "user-agent", "something else"))
    check(with_header(request, "x-forwarded-for", "10.0.0.1"))


# ----------------------------------------------------------------------------------------- real clients


class _Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def _grab(request: AWSPreparedRequest, **_: Any) -> None:
    raise _Captured(request)


def client_request(service: str, call: Callable[[Any], Any], endpoint: str = ENDPOINT) -> HttpRequest:
    session = boto3.session.Session(AK, SK, TOKEN, region_name="eu-west-1")
    config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    client = session.client(service, endpoint_url=endpoint, config=config)
    client.meta.events.register("before-send", _grab)
    with pytest.raises(_Captured) as caught:
        call(client)
    return to_http(caught.value.request)


CLIENT_CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("sts", lambda c: c.get_caller_identity()),
    ("sts", lambda c: c.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="s+1 é")),
    ("iam", lambda c: c.list_users(PathPrefix="/a b/")),
    ("iam", lambda c: c.create_user(UserName="u+=,.@-", Tags=[{"Key": "k", "Value": "v é"}])),
    ("iot", lambda c: c.describe_thing(thingName="x:y")),
    ("iot", lambda c: c.list_things(attributeName="a b", attributeValue="é/+")),
    ("iot", lambda c: c.describe_endpoint(endpointType="iot:CredentialProvider")),
    ("sagemaker", lambda c: c.describe_device_fleet(DeviceFleetName="fleet")),
    ("sagemaker-edge", lambda c: c.get_device_registration(DeviceName="d", DeviceFleetName="f")),
    ("s3", lambda c: c.list_buckets()),
    ("s3", lambda c: c.list_objects_v2(Bucket="b", Prefix="a b~*+/é", Delimiter="/")),
    ("s3", lambda c: c.put_object(Bucket="b", Key="dir/a b/ü%.txt", Body=b"hello")),
    ("s3", lambda c: c.get_object(Bucket="b", Key="../x/./y", Range="bytes=0-1")),
    ("s3", lambda c: c.create_multipart_upload(Bucket="b", Key="big")),
]


@pytest.mark.parametrize("endpoint", [ENDPOINT, "https://localhost"])
@pytest.mark.parametrize(("service", "call"), CLIENT_CALLS, ids=[f"{s}-{i}" for i, (s, _) in enumerate(CLIENT_CALLS)])
def test_boto3_clients(service: str, call: Callable[[Any], Any], endpoint: str) -> None:
    request = client_request(service, call, endpoint)
    signed = check(request)
    assert signed.service == SERVICES[service]
    assert signed.region == "eu-west-1"
    assert signed.security_token == TOKEN


def test_boto3_streaming_upload_over_https_is_used_as_signed() -> None:
    request = client_request("s3", lambda c: c.put_object(Bucket="b", Key="k", Body=b"x" * 100), "https://x")
    assert request.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    check(request)


# ----------------------------------------------------------------------------------------- presigned


@pytest.mark.parametrize("signing_name", SIGNING_NAMES)
@pytest.mark.parametrize("token", [None, TOKEN])
def test_presigned_with_botocore_query_signers(signing_name: str, token: str | None) -> None:
    url = f"{ENDPOINT}/b/a%20b/%C3%A9?k=2&k=1&x=%2F"
    request = sign(signing_name, "GET", url, presign=900, token=token)
    signed = check(request, now=NOW + 899)
    assert signed.presigned
    assert signed.expires == 900
    assert signed.security_token == token
    assert failure_of(request, now=NOW + 901).kind is Kind.PRESIGN_EXPIRED


def test_presigned_s3_is_unsigned_payload() -> None:
    request = replace(sign("s3", "PUT", f"{ENDPOINT}/b/k", presign=60), body=b"any body at all")
    check(request)


def test_presigned_non_s3_signs_the_body() -> None:
    request = sign("sts", "GET", f"{ENDPOINT}/?Action=GetCallerIdentity&Version=2011-06-15", presign=60)
    check(request)
    assert failure_of(replace(request, body=b"x")).kind is Kind.BAD_SIGNATURE


def test_generate_presigned_url_s3v4_and_sts() -> None:
    session = boto3.session.Session(AK, SK, TOKEN, region_name="eu-west-1")
    s3 = session.client("s3", endpoint_url=ENDPOINT, config=Config(signature_version="s3v4"))
    sts = session.client("sts", endpoint_url=ENDPOINT)
    presigned = [
        (
            "GET",
            s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "a b/é+.txt"}, ExpiresIn=300),
        ),
        (
            "PUT",
            s3.generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=604800),
        ),
        ("GET", sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")),
        # Without HttpMethod botocore presigns the operation's own method, POST for the query protocol.
        ("POST", sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)),
    ]
    for method, url in presigned:
        parts = urlsplit(url)
        request = HttpRequest(method, parts.path or "/", parts.query, {"host": parts.netloc})
        assert check(request).security_token == TOKEN


def test_presigned_tampering() -> None:
    request = sign("s3", "GET", f"{ENDPOINT}/b/k?versionId=1", presign=300)
    assert failure_of(replace(request, raw_path="/b/other", _cache={})).kind is Kind.BAD_SIGNATURE
    tampered = request.query_string.replace("versionId=1", "versionId=2")
    assert failure_of(replace(request, query_string=tampered, _cache={})).kind is Kind.BAD_SIGNATURE
    longer = request.query_string.replace("X-Amz-Expires=300", "X-Amz-Expires=3000")
    assert failure_of(replace(request, query_string=longer, _cache={})).kind is Kind.BAD_SIGNATURE
    assert failure_of(request, now=NOW + 301).kind is Kind.PRESIGN_EXPIRED
    assert failure_of(request, now=NOW - 16 * 60).kind is Kind.NOT_YET_VALID


# ----------------------------------------------------------------------------------------- tampering


def _sts_post() -> HttpRequest:
    return sign(
        "sts",
        "POST",
        f"{ENDPOINT}/path?q=1",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-Amz-Meta-A": "1"},
        token=TOKEN,
    )


def test_every_signed_header_is_covered() -> None:
    request = _sts_post()
    signed = check(request)
    assert set(signed.signed_headers) >= {"host", "content-type", "x-amz-date", "x-amz-security-token"}
    for name in signed.signed_headers:
        value = request.headers[name]
        changed = value.replace("001427Z", "001428Z") if name == "x-amz-date" else value + "x"
        assert failure_of(with_header(request, name, changed)).kind is Kind.BAD_SIGNATURE, name
        if name not in ("host", "x-amz-date"):
            assert failure_of(with_header(request, name, None)).kind is Kind.BAD_SIGNATURE, name


@pytest.mark.parametrize(
    "change",
    [
        {"body": b"Action=CreateUser&Version=2011-06-15"},
        {"body": b""},
        {"raw_path": "/path2"},
        {"raw_path": "/Path"},
        {"query_string": "q=2"},
        {"query_string": "q=1&extra="},
        {"query_string": ""},
        {"method": "PUT"},
    ],
)
def test_tampering_breaks_the_signature(change: dict[str, Any]) -> None:
    request = replace(_sts_post(), **change, _cache={})
    assert failure_of(request).kind is Kind.BAD_SIGNATURE


@pytest.mark.parametrize("path", ["/things/a%20b", "/things/%C3%A9", "/things/a%3Ab", "/a%2Fb"])
def test_signature_cannot_move_to_the_path_botocore_signed(path: str) -> None:
    # botocore signs quote(path) ("/things/a%2520b"); sending that string as the raw path names another
    # resource ("a%20b"), so the raw (curl) form must not accept it.
    request = sign("iot", "GET", f"{ENDPOINT}{path}")
    check(request)
    moved = replace(request, raw_path=sigv4.canonical_path(path, "iot"), _cache={})
    assert moved.raw_path != path
    assert failure_of(moved).kind is Kind.BAD_SIGNATURE


def test_wrong_secret() -> None:
    failure = failure_of(_sts_post(), secret=SK[:-1] + "X")
    assert failure.kind is Kind.BAD_SIGNATURE
    assert failure.access_key_id == AK
    assert failure.canonical_request is not None
    assert failure.canonical_request.startswith("POST\n/path\nq=1\ncontent-type:")
    assert failure.string_to_sign is not None
    assert failure.string_to_sign.startswith("AWS4-HMAC-SHA256\n20220127T001427Z\n20220127/us-east-1/sts/")


def test_date_changed_to_another_day_is_malformed() -> None:
    request = with_header(_sts_post(), "x-amz-date", "20220128T001427Z")
    with pytest.raises(AuthFailure) as caught:
        sigv4.read_signature(request)
    assert caught.value.kind is Kind.MALFORMED
    assert "'20220127' != '20220128'" in caught.value.detail


def test_s3_body_against_declared_sha256() -> None:
    request = sign("s3", "PUT", f"{ENDPOINT}/b/k", data=b"hello")
    check(request)
    failure = failure_of(replace(request, body=b"hellO"))
    assert failure.kind is Kind.CONTENT_SHA256_MISMATCH
    assert failure.client_sha256 == request.headers["x-amz-content-sha256"]
    tampered = with_header(request, "x-amz-content-sha256", sigv4.EMPTY_SHA256)
    assert failure_of(tampered).kind is Kind.BAD_SIGNATURE
    # A streamed body is hashed by the caller: verify trusts the claim when told so.
    signed = sigv4.read_signature(request)
    assert signed is not None
    sigv4.verify(replace(request, body=b""), signed, SK, NOW, check_content_sha256=False)


def test_unsigned_payload_is_refused_outside_s3() -> None:
    headers = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    request = sign("sts", "POST", f"{ENDPOINT}/", data=b"Action=X", headers=headers)
    assert failure_of(request).kind is Kind.CONTENT_SHA256_MISMATCH
    # S3SigV4Auth would replace the header with the body's hash; the plain signer signs it as given.
    plain = botocore.auth.SigV4Auth
    check(sign("s3", "PUT", f"{ENDPOINT}/b/k", data=b"x", headers=headers, signer_class=plain))
    streaming = {"X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}
    check(sign("s3", "PUT", f"{ENDPOINT}/b/k", data=b"x", headers=streaming, signer_class=plain))
    nope = {"X-Amz-Content-SHA256": "nope"}
    garbage = sign("s3", "PUT", f"{ENDPOINT}/b/k", data=b"x", headers=nope, signer_class=plain)
    assert failure_of(garbage).kind is Kind.CONTENT_SHA256_MISMATCH


def test_region_and_service_are_part_of_the_signature() -> None:
    request = sign("sts", "POST", data=b"x", region="eu-central-1")
    assert check(request).region == "eu-central-1"
    authorization = request.headers["authorization"]
    for old, new in [("/eu-central-1/", "/us-east-1/"), ("/sts/", "/iam/")]:
        moved = with_header(request, "authorization", authorization.replace(old, new))
        assert failure_of(moved).kind is Kind.BAD_SIGNATURE


# ----------------------------------------------------------------------------------------- clock


def test_skew_texts_are_aws_exact() -> None:
    request = sign("sts", "POST", data=b"x")
    now = NOW + (1 * 3600 + 45 * 60 + 1)  # 20220127T015928Z
    failure = failure_of(request, now=now)
    assert failure.kind is Kind.EXPIRED_SIGNATURE
    assert failure.detail == SKEW_TEXT
    failure = failure_of(request, now=NOW - (3 * 3600 + 30 * 60 - 1))  # 20220126T204428Z
    assert failure.kind is Kind.NOT_YET_VALID
    assert failure.detail == (
        "Signature not yet current: 20220127T001427Z is still later than 20220126T205928Z (20220126T204428Z + 15 min.)"
    )


@pytest.mark.parametrize(
    ("offset", "kind"),
    [(-16 * 60, Kind.NOT_YET_VALID), (16 * 60, Kind.EXPIRED_SIGNATURE), (-15 * 60, None), (15 * 60, None)],
)
def test_fifteen_minute_window(offset: int, kind: Kind | None) -> None:
    request = sign("iot", "GET", f"{ENDPOINT}/things")
    if kind is None:
        check(request, now=NOW + offset)
    else:
        failure = failure_of(request, now=NOW + offset)
        assert failure.kind is kind
        assert failure.request_time == "20220127T001427Z"
        assert failure.server_time == NOW + offset


def test_presign_lifetime_limits() -> None:
    request = sign("s3", "GET", f"{ENDPOINT}/b/k", presign=604800)
    check(request, now=NOW + 604800)
    assert failure_of(request, now=NOW + 604801).kind is Kind.PRESIGN_EXPIRED
    too_long = request.query_string.replace("X-Amz-Expires=604800", "X-Amz-Expires=604801")
    with pytest.raises(AuthFailure) as caught:
        sigv4.read_signature(replace(request, query_string=too_long, _cache={}))
    assert caught.value.kind is Kind.MALFORMED
    assert caught.value.presigned


# ----------------------------------------------------------------------------------------- malformed


def _header_request(authorization: str, **headers: str) -> HttpRequest:
    all_headers = {"host": "127.0.0.1:4566", "x-amz-date": "20220127T001427Z", **headers}
    if authorization is not None:
        all_headers["authorization"] = authorization
    return HttpRequest("POST", "/", "", all_headers, b"")


GOOD_CREDENTIAL = f"{AK}/20220127/us-east-1/sts/aws4_request"
GOOD_SIGNATURE = "a" * 64
GOOD = f"AWS4-HMAC-SHA256 Credential={GOOD_CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature={GOOD_SIGNATURE}"

MALFORMED_HEADERS = [
    "",
    "AWS4-HMAC-SHA256",
    "AWS4-HMAC-SHA256 ",
    f"AWS4-HMAC-SHA256 Credential={GOOD_CREDENTIAL}",
    f"AWS4-HMAC-SHA256 Credential={GOOD_CREDENTIAL}, SignedHeaders=host",
    GOOD.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
    GOOD.replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256"),
    "Bearer abc.def",
    f"AWS {AK}:c2lnbmF0dXJl",
    GOOD.replace(GOOD_CREDENTIAL, f"{AK}/20220127/us-east-1/sts"),
    GOOD.replace(GOOD_CREDENTIAL, f"{AK}/20220127/us-east-1/sts/aws4_request/extra"),
    GOOD.replace(GOOD_CREDENTIAL, f"{AK}/20220127/us-east-1/sts/aws5_request"),
    GOOD.replace(GOOD_CREDENTIAL, f"{AK}/2022-01-27/us-east-1/sts/aws4_request"),
    GOOD.replace(GOOD_CREDENTIAL, "/20220127/us-east-1/sts/aws4_request"),
    GOOD.replace(GOOD_CREDENTIAL, f"{AK}//us-east-1/sts/aws4_request"),
    GOOD.replace(GOOD_CREDENTIAL, f"{AK}/20220126/us-east-1/sts/aws4_request"),
    GOOD.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date"),
    GOOD.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=host;;x-amz-date"),
    GOOD.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=Host;X-Amz-Date"),
    GOOD.replace("SignedHeaders=host;x-amz-date", "SignedHeaders="),
    GOOD.replace(GOOD_SIGNATURE, "a" * 63),
    GOOD.replace(GOOD_SIGNATURE, "g" * 64),
    GOOD.replace(GOOD_SIGNATURE, ""),
    GOOD + f", Credential={GOOD_CREDENTIAL}",
    GOOD + ", Foo=bar",
    GOOD + ", ",
    GOOD.replace("Credential=", "Credential "),
    GOOD.replace(", ", " "),
    GOOD.replace("us-east-1", "\u00e9\u0000\n"),
    "\u00e9" * 100,
]


@pytest.mark.parametrize("authorization", MALFORMED_HEADERS)
def test_malformed_authorization_headers(authorization: str) -> None:
    request = _header_request(authorization)
    with pytest.raises(AuthFailure) as caught:
        sigv4.authenticate(request, lambda signed: SK, NOW)
    assert caught.value.kind is Kind.MALFORMED, caught.value.detail
    assert not caught.value.presigned


@pytest.mark.parametrize(
    "headers",
    [
        {"x-amz-date": "2022-01-27T00:14:27Z"},
        {"x-amz-date": "20220127T251427Z"},
        {"x-amz-date": "20221327T001427Z"},
        {"x-amz-date": ""},
        {"x-amz-date": "20220127T001427"},
    ],
)
def test_malformed_dates(headers: dict[str, str]) -> None:
    with pytest.raises(AuthFailure) as caught:
        sigv4.read_signature(_header_request(GOOD, **headers))
    assert caught.value.kind is Kind.MALFORMED


def test_missing_and_garbled_date_header() -> None:
    request = HttpRequest("POST", "/", "", {"host": "h", "authorization": GOOD})
    with pytest.raises(AuthFailure, match="either a 'X-Amz-Date' or a 'Date' header"):
        sigv4.read_signature(request)
    with pytest.raises(AuthFailure) as caught:
        sigv4.read_signature(with_header(request, "date", "yesterday"))
    assert caught.value.kind is Kind.MALFORMED


PRESIGN = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20220127%2Fus-east-1%2Fs3"
    "%2Faws4_request&X-Amz-Date=20220127T001427Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
    f"&X-Amz-Signature={GOOD_SIGNATURE}"
)


@pytest.mark.parametrize(
    "query",
    [
        PRESIGN.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
        PRESIGN.replace("&X-Amz-Expires=60", ""),
        PRESIGN.replace("X-Amz-Expires=60", "X-Amz-Expires=-1"),
        PRESIGN.replace("X-Amz-Expires=60", "X-Amz-Expires=1e3"),
        PRESIGN.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"),
        PRESIGN.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date"),
        PRESIGN.replace("X-Amz-Date=20220127T001427Z", "X-Amz-Date=20220128T001427Z"),
        PRESIGN.replace("X-Amz-Date=20220127T001427Z", "X-Amz-Date=now"),
        PRESIGN.replace(f"X-Amz-Signature={GOOD_SIGNATURE}", "X-Amz-Signature="),
        PRESIGN.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256&", ""),
        "X-Amz-Signature=abc",
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1643242467&Signature=c2ln",
    ],
)
def test_malformed_presigned_queries(query: str) -> None:
    request = HttpRequest("GET", "/b/k", query, {"host": "h"})
    with pytest.raises(AuthFailure) as caught:
        sigv4.read_signature(request)
    assert caught.value.kind is Kind.MALFORMED
    assert caught.value.presigned


def test_header_and_query_auth_together() -> None:
    request = HttpRequest("GET", "/b/k", PRESIGN, {"host": "h", "authorization": GOOD})
    with pytest.raises(AuthFailure, match="Only one auth mechanism"):
        sigv4.read_signature(request)


def test_garbling_a_valid_request_never_raises_anything_else() -> None:
    request = _sts_post()
    authorization = request.headers["authorization"]
    variants = set()
    for i in range(len(authorization)):
        variants.add(authorization[:i])
        variants.add(authorization[:i] + authorization[i + 1 :])
        variants.add(authorization[:i] + "=" + authorization[i:])
        variants.add(authorization[:i] + "/" + authorization[i + 1 :])
    for variant in variants:
        garbled = with_header(request, "authorization", variant)
        with contextlib.suppress(AuthFailure):
            check(garbled)
    date = request.headers["x-amz-date"]
    for i in range(len(date)):
        for char in "0a9TZ/ ":
            garbled = with_header(request, "x-amz-date", date[:i] + char + date[i + 1 :])
            with contextlib.suppress(AuthFailure):
                check(garbled)


# ----------------------------------------------------------------------------------------- no auth, lookup


def test_no_authentication() -> None:
    request = HttpRequest("GET", "/b/k", "versionId=1&X-Amz-Meta=1", {"host": "h"})
    assert sigv4.read_signature(request) is None
    with pytest.raises(AuthFailure) as caught:
        sigv4.authenticate(request, lambda signed: SK, NOW)
    assert caught.value.kind is Kind.MISSING


def test_authenticate_with_lookup() -> None:
    request = _sts_post()
    seen: list[SignedRequest] = []

    def lookup(signed: SignedRequest) -> str:
        seen.append(signed)
        return SK

    assert sigv4.authenticate(request, lookup, NOW).access_key_id == AK
    assert seen[0].security_token == TOKEN

    def unknown(signed: SignedRequest) -> str:
        raise sigv4.unknown_key(signed)

    def expired(signed: SignedRequest) -> str:
        raise sigv4.expired_token(signed)

    for lookup_fails, kind in [(unknown, Kind.UNKNOWN_KEY), (expired, Kind.EXPIRED_TOKEN)]:
        with pytest.raises(AuthFailure) as caught:
            sigv4.authenticate(request, lookup_fails, NOW)
        assert caught.value.kind is kind


def test_clock_is_checked_before_the_lookup() -> None:
    def lookup(signed: SignedRequest) -> str:
        raise AssertionError("no lookup for a stale request")

    with pytest.raises(AuthFailure) as caught:
        sigv4.authenticate(_sts_post(), lookup, NOW + 3600)
    assert caught.value.kind is Kind.EXPIRED_SIGNATURE


def test_signing_keys_are_cached_and_bounded() -> None:
    sigv4.clear_signing_key_cache()
    request = _sts_post()
    check(request)
    check(request)
    info = sigv4._signer.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert info.maxsize is not None


def test_signing_key_matches_the_aws_documentation_example() -> None:
    # docs.aws.amazon.com/general/latest/gr/signature-v4-examples.html ("Deriving a signing key")
    key = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


# ----------------------------------------------------------------------------------------- curl, AWS CLI


Captured = tuple[str, str, list[tuple[str, str]], bytes]


class _CaptureHandler(http.server.BaseHTTPRequestHandler):
    captured: list[Captured]

    def _capture(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        headers = [(name.lower(), value) for name, value in self.headers.items()]
        self.captured.append((self.command, self.path, headers, self.rfile.read(length)))
        self.send_response(500)
        self.send_header("content-length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _capture

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def capture_server() -> Iterator[tuple[str, list[Captured]]]:
    captured: list[Captured] = []
    handler = type("Handler", (_CaptureHandler,), {"captured": captured})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", captured
    server.shutdown()
    server.server_close()


def from_wire(captured: Captured) -> HttpRequest:
    method, target, header_list, body = captured
    path, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for name, value in header_list:
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return HttpRequest(method, path, query, headers, body)


def verify_now(request: HttpRequest, secret: str = SK) -> SignedRequest:
    signed = sigv4.read_signature(request)
    assert signed is not None
    sigv4.verify(request, signed, secret, float(signed.issued_at))
    return signed


CURL = shutil.which("curl") or "/usr/bin/curl"
needs_curl = pytest.mark.skipif(not os.path.exists(CURL), reason="curl not installed")


def run_curl(url: str, *args: str, service: str = "sts", secret: str = SK) -> None:
    command = [CURL, "-s", "-o", "/dev/null", "--aws-sigv4", f"aws:amz:us-east-1:{service}"]
    subprocess.run([*command, "--user", f"{AK}:{secret}", *args, url], check=True, timeout=30)


@needs_curl
@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/?Action=GetCallerIdentity&Version=2011-06-15",
        "/a/b?b=2&a=1&x=a+b&y=%41%2f&z",
        "/x?a=b%20c&c=d~e&e=%7E&k=2&k=1",
        "/things/%C3%A9t%C3%A9?q=%C3%A9",
        "/a%2Fb//c",
    ],
)
def test_curl_get_with_query(capture_server: tuple[str, list[Captured]], target: str) -> None:
    base, captured = capture_server
    run_curl(base + target)
    signed = verify_now(from_wire(captured[0]))
    assert signed.service == "sts"


@needs_curl
def test_curl_post_form_body(capture_server: tuple[str, list[Captured]]) -> None:
    base, captured = capture_server
    run_curl(
        base + "/",
        "-d",
        "Action=GetCallerIdentity&Version=2011-06-15",
        "-H",
        f"x-amz-security-token: {TOKEN}",
    )
    request = from_wire(captured[0])
    assert request.body == b"Action=GetCallerIdentity&Version=2011-06-15"
    assert verify_now(request).security_token == TOKEN
    with pytest.raises(AuthFailure) as caught:
        verify_now(replace(request, body=b"Action=CreateUser&Version=2011-06-15"))
    assert caught.value.kind is Kind.BAD_SIGNATURE


@needs_curl
def test_curl_s3_put(capture_server: tuple[str, list[Captured]]) -> None:
    base, captured = capture_server
    run_curl(base + "/bucket/k%20ey/%2525?b=1&a=2", "-X", "PUT", "--data-binary", "hello", service="s3")
    assert verify_now(from_wire(captured[0])).service == "s3"


@needs_curl
def test_curl_wrong_secret(capture_server: tuple[str, list[Captured]]) -> None:
    base, captured = capture_server
    run_curl(base + "/?b=1&a=2", secret="not-the-secret")
    with pytest.raises(AuthFailure) as caught:
        verify_now(from_wire(captured[0]))
    assert caught.value.kind is Kind.BAD_SIGNATURE


@needs_curl
def test_curl_raw_form_refused_where_it_would_be_ambiguous(
    capture_server: tuple[str, list[Captured]],
) -> None:
    # `/a%2520b` is also botocore's form of `/a%20b`: accepting curl's raw form here would let a signature
    # for the thing "a b" be replayed onto the thing "a%20b". Such names are refused by IoT/SageMaker anyway.
    base, captured = capture_server
    run_curl(base + "/things/a%2520b")
    with pytest.raises(AuthFailure) as caught:
        verify_now(from_wire(captured[0]))
    assert caught.value.kind is Kind.BAD_SIGNATURE


AWS_CLI = shutil.which("aws")


@pytest.mark.skipif(AWS_CLI is None, reason="AWS CLI not on PATH")
@pytest.mark.parametrize(
    "arguments",
    [
        ["sts", "get-caller-identity"],
        ["iam", "list-users", "--path-prefix", "/a b/"],
        ["iot", "describe-thing", "--thing-name", "x:y"],
        ["s3api", "list-objects-v2", "--bucket", "b", "--prefix", "a b/é"],
    ],
)
def test_aws_cli(capture_server: tuple[str, list[Captured]], arguments: list[str]) -> None:
    base, captured = capture_server
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": AK,
        "AWS_SECRET_ACCESS_KEY": SK,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    assert AWS_CLI is not None
    subprocess.run([AWS_CLI, "--endpoint-url", base, *arguments], env=env, capture_output=True, timeout=60)
    assert captured, "the AWS CLI sent nothing"
    assert verify_now(from_wire(captured[0])).security_token == TOKEN


# ----------------------------------------------------------------------------------------- auth_errors


SIGNATURE_TEXT = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
SKEW_TEXT = "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)"


@pytest.fixture
def failures() -> dict[Kind, AuthFailure]:
    request = _sts_post()
    signed = sigv4.read_signature(request)
    assert signed is not None
    s3_request = sign("s3", "GET", f"{ENDPOINT}/b/k", presign=60)
    s3_put = sign("s3", "PUT", f"{ENDPOINT}/b/k", data=b"hello")
    return {
        Kind.MISSING: sigv4.missing(),
        Kind.MALFORMED: sigv4.malformed("Authorization header requires 'Signature' parameter."),
        Kind.UNKNOWN_KEY: sigv4.unknown_key(signed),
        Kind.BAD_SIGNATURE: failure_of(request, secret="wrong"),
        Kind.EXPIRED_SIGNATURE: failure_of(request, now=NOW + 6301),
        Kind.NOT_YET_VALID: failure_of(request, now=NOW - 16 * 60),
        Kind.EXPIRED_TOKEN: sigv4.expired_token(signed),
        Kind.PRESIGN_EXPIRED: failure_of(s3_request, now=NOW + 61),
        Kind.CONTENT_SHA256_MISMATCH: failure_of(replace(s3_put, body=b"other")),
    }


# (kind, service) -> (code, status, message or None to skip)
EXPECTED: dict[tuple[Kind, str], tuple[str, int, str | None]] = {}
for _service in ("iam", "sts"):
    EXPECTED |= {
        (Kind.MISSING, _service): (
            "MissingAuthenticationToken",
            403,
            "Request is missing Authentication Token",
        ),
        (Kind.MALFORMED, _service): (
            "IncompleteSignature",
            400,
            "Authorization header requires 'Signature' parameter.",
        ),
        (Kind.UNKNOWN_KEY, _service): (
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid.",
        ),
        (Kind.BAD_SIGNATURE, _service): ("SignatureDoesNotMatch", 403, SIGNATURE_TEXT),
        (Kind.EXPIRED_SIGNATURE, _service): ("SignatureDoesNotMatch", 403, SKEW_TEXT),
        (Kind.NOT_YET_VALID, _service): ("SignatureDoesNotMatch", 403, None),
        (Kind.EXPIRED_TOKEN, _service): (
            "ExpiredToken",
            403,
            "The security token included in the request is expired",
        ),
        (Kind.PRESIGN_EXPIRED, _service): ("SignatureDoesNotMatch", 403, None),
        (Kind.CONTENT_SHA256_MISMATCH, _service): ("SignatureDoesNotMatch", 403, None),
    }
for _service, _status in (("sagemaker", 400), ("iot", 403), ("sagemaker-edge", 403)):
    EXPECTED |= {
        (Kind.MISSING, _service): ("MissingAuthenticationTokenException", _status, None),
        (Kind.MALFORMED, _service): ("IncompleteSignatureException", _status, None),
        (Kind.UNKNOWN_KEY, _service): (
            "UnrecognizedClientException",
            _status,
            "The security token included in the request is invalid.",
        ),
        (Kind.BAD_SIGNATURE, _service): ("InvalidSignatureException", _status, SIGNATURE_TEXT),
        (Kind.EXPIRED_SIGNATURE, _service): ("InvalidSignatureException", _status, SKEW_TEXT),
        (Kind.NOT_YET_VALID, _service): ("InvalidSignatureException", _status, None),
        (Kind.EXPIRED_TOKEN, _service): ("ExpiredTokenException", _status, None),
        (Kind.PRESIGN_EXPIRED, _service): ("InvalidSignatureException", _status, None),
        (Kind.CONTENT_SHA256_MISMATCH, _service): ("InvalidSignatureException", _status, None),
    }
EXPECTED |= {
    (Kind.MISSING, "s3"): ("AccessDenied", 403, "Access Denied"),
    (Kind.MALFORMED, "s3"): ("AuthorizationHeaderMalformed", 400, None),
    (Kind.UNKNOWN_KEY, "s3"): (
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    (Kind.BAD_SIGNATURE, "s3"): ("SignatureDoesNotMatch", 403, None),
    (Kind.EXPIRED_SIGNATURE, "s3"): (
        "RequestTimeTooSkewed",
        403,
        "The difference between the request time and the current time is too large.",
    ),
    (Kind.NOT_YET_VALID, "s3"): ("RequestTimeTooSkewed", 403, None),
    (Kind.EXPIRED_TOKEN, "s3"): ("ExpiredToken", 400, "The provided token has expired."),
    (Kind.PRESIGN_EXPIRED, "s3"): ("AccessDenied", 403, "Request has expired"),
    (Kind.CONTENT_SHA256_MISMATCH, "s3"): ("XAmzContentSHA256Mismatch", 400, None),
}


def _case_order(case: tuple[Kind, str]) -> tuple[str, str]:
    return case[0].value, case[1]


CASES: list[tuple[Kind, str]] = sorted(EXPECTED.keys(), key=_case_order)


@pytest.mark.parametrize(("kind", "service"), CASES)
def test_auth_error_codes(kind: Kind, service: str, failures: dict[Kind, AuthFailure]) -> None:
    error = auth_error(service, failures[kind])
    code, status, message = EXPECTED[(kind, service)]
    assert isinstance(error, ServiceError)
    assert (error.code, error.status) == (code, status)
    assert error.sender_fault
    if message is not None:
        assert error.message == message
    assert error.message
    if service != "s3":
        assert error.fields == {}


def test_every_kind_is_mapped_for_every_service() -> None:
    assert {kind for kind, _ in EXPECTED} == set(Kind)
    assert {service for _, service in EXPECTED} == set(SERVICES)


def test_s3_error_fields(failures: dict[Kind, AuthFailure]) -> None:
    error = auth_error("s3", failures[Kind.BAD_SIGNATURE])
    assert error.fields["AWSAccessKeyId"] == AK
    assert error.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n20220127T001427Z\n")
    assert error.fields["CanonicalRequest"].startswith("POST\n/path\n")
    assert error.fields["StringToSignBytes"].startswith("41 57 53 34 2d")
    assert error.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )

    skewed = auth_error("s3", failures[Kind.EXPIRED_SIGNATURE])
    assert skewed.fields == {
        "RequestTime": "20220127T001427Z",
        "ServerTime": "2022-01-27T01:59:28Z",
        "MaxAllowedSkewMilliseconds": "900000",
    }

    expired = auth_error("s3", failures[Kind.PRESIGN_EXPIRED])
    assert expired.fields == {
        "X-Amz-Expires": "60",
        "Expires": "2022-01-27T00:15:27Z",
        "ServerTime": "2022-01-27T00:15:28Z",
    }

    unknown = auth_error("s3", failures[Kind.UNKNOWN_KEY])
    assert unknown.fields == {"AWSAccessKeyId": AK}

    mismatch = auth_error("s3", failures[Kind.CONTENT_SHA256_MISMATCH])
    assert set(mismatch.fields) == {"ClientComputedContentSHA256", "S3ComputedContentSHA256"}

    presign_malformed = auth_error("s3", sigv4.malformed("X-Amz-Expires should be a number", presigned=True))
    assert presign_malformed.code == "AuthorizationQueryParametersError"
