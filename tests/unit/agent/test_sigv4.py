"""The agent's SigV4 signer produces the signature botocore computes for the same request."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from edgeward.agent.credentials import Credentials
from edgeward.agent.sigv4 import sign

WHEN = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
CREDS = Credentials("ASIAEXAMPLEEXAMPLE01", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "token/+=", WHEN)


def botocore_authorization(method: str, url: str, body: bytes, service: str, headers: dict[str, str]) -> str:
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    auth_class = S3SigV4Auth if service == "s3" else SigV4Auth
    auth = auth_class(
        BotoCredentials(CREDS.access_key_id, CREDS.secret_access_key, CREDS.session_token), service, "us-west-2"
    )
    if service == "s3":
        request.context["payload_signing_enabled"] = True
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN.replace(tzinfo=None)):
        auth.add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize(
    ("method", "path", "service", "body", "headers"),
    [
        ("POST", "/SendHeartbeat", "sagemaker", b'{"DeviceName":"d"}', {"content-type": "application/json"}),
        ("PUT", "/bucket/fleet/device/capture/data%20file.json", "s3", b"captured", {}),
        ("GET", "/bucket/models/model.tar.gz", "s3", b"", {}),
    ],
)
def test_signature_matches_botocore(method: str, path: str, service: str, body: bytes, headers: dict[str, str]) -> None:
    ours = sign(
        method,
        "127.0.0.1:4566",
        path,
        {},
        headers,
        body,
        credentials=CREDS,
        region="us-west-2",
        service=service,
        now=WHEN,
    )
    expected = botocore_authorization(method, f"http://127.0.0.1:4566{path}", body, service, headers)
    assert ours["authorization"] == expected
