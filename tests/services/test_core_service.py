"""The core service seen from real clients: boto3, the AWS CLI and curl --aws-sigv4."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer


def test_health_answers(server: RunningServer) -> None:
    with urllib.request.urlopen(f"{server.endpoint}/_edgeward/health") as reply:
        body = json.loads(reply.read())
    assert body["status"] == "ok" and len(body["account"]) == 12


def test_credentials_file_is_private_and_in_aws_format(server: RunningServer) -> None:
    mode = stat.S_IMODE(os.stat(server.credentials_file).st_mode)
    assert mode == 0o600
    access_key, secret = server.admin_keys()
    assert access_key.startswith("AKIA") and len(access_key) == 20 and len(secret) == 40


def test_get_caller_identity_boto3(server: RunningServer) -> None:
    who = server.client("sts").get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{who['Account']}:user/admin"
    assert who["UserId"].startswith("AIDA")


def test_get_caller_identity_aws_cli(server: RunningServer) -> None:
    out = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--output", "json"],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"].endswith(":user/admin")


def test_curl_aws_sigv4(server: RunningServer) -> None:
    access_key, secret = server.admin_keys()
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--fail-with-body",
            "--aws-sigv4",
            "aws:amz:us-east-1:sts",
            "--user",
            f"{access_key}:{secret}",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "--data",
            "Action=GetCallerIdentity&Version=2011-06-15",
            f"{server.endpoint}/",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "<GetCallerIdentityResponse" in out.stdout and ":user/admin</Arn>" in out.stdout


def test_curl_aws_sigv4_wrong_secret_is_refused(server: RunningServer) -> None:
    access_key, _ = server.admin_keys()
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--aws-sigv4",
            "aws:amz:us-east-1:sts",
            "--user",
            f"{access_key}:{'x' * 40}",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "--data",
            "Action=GetCallerIdentity&Version=2011-06-15",
            "-w",
            "\n%{http_code}",
            f"{server.endpoint}/",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout.endswith("403")
    assert "<Code>SignatureDoesNotMatch</Code>" in out.stdout


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId"),
        ("iam", lambda c: c.list_users(), "InvalidClientTokenId"),
        ("iot", lambda c: c.list_things(), "UnrecognizedClientException"),
        ("sagemaker", lambda c: c.list_device_fleets(), "UnrecognizedClientException"),
        ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId"),
    ],
)
def test_unknown_key_in_each_protocol(server: RunningServer, service: str, call: object, code: str) -> None:
    client = server.client(service, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(ClientError) as caught:
        call(client)  # type: ignore[operator]
    assert caught.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch"),
        ("iot", lambda c: c.list_things(), "InvalidSignatureException"),
        ("sagemaker", lambda c: c.list_device_fleets(), "InvalidSignatureException"),
        ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch"),
    ],
)
def test_bad_signature_in_each_protocol(server: RunningServer, service: str, call: object, code: str) -> None:
    access_key, _ = server.admin_keys()
    client = server.client(service, access_key, "wrong" * 8)
    with pytest.raises(ClientError) as caught:
        call(client)  # type: ignore[operator]
    assert caught.value.response["Error"]["Code"] == code


def test_unsigned_request_is_refused(server: RunningServer) -> None:
    request = urllib.request.Request(
        f"{server.endpoint}/",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    body = caught.value.read().decode()
    assert caught.value.code == 403 and "MissingAuthenticationToken" in body


def test_known_but_unimplemented_operation_is_named(server: RunningServer) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as caught:
        iam.list_saml_providers()
    error = caught.value.response["Error"]
    assert error["Code"] == "NotImplemented" and "ListSAMLProviders" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_validation_error_in_aws_form(server: RunningServer) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName="bad name with spaces")
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"].startswith("1 validation error detected: Value 'bad name with spaces' at 'userName'")
