"""Malformed requests through the real server: each gets its protocol's own 4xx error, never a 5xx."""

from __future__ import annotations

import http.client
import urllib.parse
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.serverfixtures import RunningServer


def send_signed(
    server: RunningServer, signing: str, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    key, secret = server.admin_keys()
    request = AWSRequest(method=method, url=f"{server.endpoint}{path}", data=body, headers=headers)
    signer = S3SigV4Auth if signing == "s3" else SigV4Auth
    signer(Credentials(key, secret), signing, "us-east-1").add_auth(request)
    return send_raw(server, method, path, body, dict(request.headers.items()))


def send_raw(
    server: RunningServer, method: str, path: str, body: bytes, headers: dict[str, Any]
) -> tuple[int, dict[str, str], bytes]:
    parsed = urllib.parse.urlsplit(server.endpoint)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


JSON_11 = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListDeviceFleets"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "SerializationException"),
        (b"[1, 2]", "SerializationException"),
        (b'{"MaxResults": "ten"}', "SerializationException"),
        (b'{"MaxResults": 1000}', "ValidationException"),
        (b'{"NameContains": "' + b"x" * 5000 + b'"}', "ValidationException"),
    ],
)
def test_sagemaker_bad_json(server: RunningServer, body: bytes, code: str) -> None:
    status, _, reply = send_signed(server, "sagemaker", "POST", "/", body, JSON_11)
    assert 400 <= status < 500, reply
    assert f'"__type": "{code}"'.encode() in reply.replace(b'":"', b'": "'), reply


def test_iot_bad_json_body(server: RunningServer) -> None:
    status, headers, reply = send_signed(
        server, "iot", "POST", "/things/t1", b"{oops", {"Content-Type": "application/json"}
    )
    assert status == 400 and headers["x-amzn-errortype"].startswith("InvalidRequestException"), reply


def test_s3_bad_xml_and_entity_bomb(server: RunningServer) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<CreateBucketConfiguration><LocationConstraint>&lol2;</LocationConstraint></CreateBucketConfiguration>"
    )
    for body in (b"<CreateBucketConfiguration><Loc", bomb):
        status, _, reply = send_signed(server, "s3", "PUT", "/some-bucket", body, {})
        assert 400 <= status < 500, reply
        assert b"<Code>MalformedXML</Code>" in reply


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/sts/aws4_request",
        "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
        "Bearer abc",
        "AWS4-HMAC-SHA256 Credential=AKIAX/2024/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=zz",
        "\u00e9\u00e9\u00e9",
    ],
)
def test_garbled_authorization_headers(server: RunningServer, authorization: str) -> None:
    headers = {
        "Authorization": authorization.encode("utf-8"),
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Amz-Date": "20240101T000000Z",
    }
    status, _, reply = send_raw(server, "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15", headers)
    assert 400 <= status < 500, reply
    assert b"<Code>" in reply or b"__type" in reply or b"message" in reply


def test_body_over_the_limit_is_refused_in_protocol_form(server: RunningServer) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15&Pad=" + b"x" * (17 * 1024 * 1024)
    status, _, reply = send_raw(server, "POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413 and b"RequestEntityTooLarge" in reply


def test_unknown_query_action(server: RunningServer) -> None:
    status, _, reply = send_signed(
        server,
        "iam",
        "POST",
        "/",
        b"Action=NoSuchThing&Version=2010-05-08",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 400 and b"<Code>InvalidAction</Code>" in reply


def test_unknown_rest_path(server: RunningServer) -> None:
    status, headers, reply = send_signed(server, "iot", "GET", "/no/such/path/here", b"", {})
    assert 400 <= status < 500, reply
    assert "x-amzn-errortype" in headers
