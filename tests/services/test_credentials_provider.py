"""The IoT credentials provider as seed 001 uses it: curl with the device certificate against the endpoint
DescribeEndpoint returns, then the temporary credentials with boto3 and the AWS CLI; AWS's checks in AWS's
order with its statuses and messages (spec 1.3-1.4); revocation on the next request of an open connection.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.e2e.mtls import (
    Device,
    Provider,
    allow,
    client_context,
    curl,
    device_curl,
    get,
    https_connection,
    make_device,
    make_role,
    start_provider,
    unique,
)

EXPIRATION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def device(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Device:
    return make_device(provider, tmp_path_factory.mktemp("device"))


def session_clients(provider: Provider, credentials: dict[str, str], service: str) -> object:
    return provider.server.client(
        service, credentials["accessKeyId"], credentials["secretAccessKey"], credentials["sessionToken"]
    )


def test_seed_curl_returns_credentials_in_aws_shape(provider: Provider, device: Device) -> None:
    assert provider.endpoint() == f"127.0.0.1:{provider.mtls_port}"
    result = device_curl(provider, device, thing=device.thing)
    assert result.status == 200, (result.body, result.stderr)
    assert result.headers["content-type"] == "application/json"
    assert result.headers.get("x-amzn-requestid")
    body = result.json()
    assert list(body) == ["credentials"]
    credentials = body["credentials"]
    assert sorted(credentials) == ["accessKeyId", "expiration", "secretAccessKey", "sessionToken"]
    assert credentials["accessKeyId"].startswith("ASIA") and len(credentials["accessKeyId"]) == 20
    assert EXPIRATION.fullmatch(credentials["expiration"]), credentials["expiration"]


def test_credentials_act_as_the_role_session_named_after_the_certificate(provider: Provider, device: Device) -> None:
    credentials = device_curl(provider, device, thing=device.thing).json()["credentials"]
    sts = session_clients(provider, credentials, "sts")
    identity = sts.get_caller_identity()  # type: ignore[attr-defined]
    assert identity["Arn"] == f"arn:aws:sts::{provider.account}:assumed-role/{device.role}/{device.certificate_id}"
    env = provider.server.env()
    env.pop("AWS_SHARED_CREDENTIALS_FILE")
    env.update(
        AWS_ACCESS_KEY_ID=credentials["accessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["secretAccessKey"],
        AWS_SESSION_TOKEN=credentials["sessionToken"],
    )
    done = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--output", "json"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"].endswith(f":assumed-role/{device.role}/{device.certificate_id}")


def test_session_carries_credentials_iot_keys_for_the_roles_policies(provider: Provider, device: Device) -> None:
    iot_admin = provider.server.client("iot")
    other = unique("other-thing")
    iot_admin.create_thing(thingName=other)
    with_header = device_curl(provider, device, thing=device.thing).json()["credentials"]
    iot = session_clients(provider, with_header, "iot")
    assert iot.describe_thing(thingName=device.thing)["thingName"] == device.thing  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as denied:
        iot.describe_thing(thingName=other)  # type: ignore[attr-defined]
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    # Without the header the session has no credentials-iot:ThingName: the policy's resource matches nothing.
    without_header = device_curl(provider, device).json()["credentials"]
    iot = session_clients(provider, without_header, "iot")
    with pytest.raises(ClientError):
        iot.describe_thing(thingName=device.thing)  # type: ignore[attr-defined]


def test_the_alias_duration_sets_the_expiration(provider: Provider, tmp_path: Path) -> None:
    role = make_role(provider, max_duration=7200)
    device = make_device(provider, tmp_path, role=role, duration=900)
    result = device_curl(provider, device)
    assert result.status == 200, result.body
    sts = session_clients(provider, result.json()["credentials"], "sts")
    assert sts.get_caller_identity()["Arn"].endswith(device.certificate_id)  # type: ignore[attr-defined]


# -- refusals, in AWS's order --------------------------------------------------------------------------


def assert_refused(result: object, status: int, message: str, error_type: str | None = None) -> None:
    assert result.status == status, (result.status, result.body, result.stderr)  # type: ignore[attr-defined]
    assert result.json() == {"message": message}  # type: ignore[attr-defined]
    if error_type is not None:
        assert result.headers["x-amzn-errortype"] == error_type  # type: ignore[attr-defined]


def test_unknown_thing_is_refused(provider: Provider, device: Device) -> None:
    result = device_curl(provider, device, thing="no-such-thing")
    assert_refused(result, 403, "Invalid thing name passed", "AccessDeniedException")


def test_thing_not_attached_to_the_certificate_is_refused(provider: Provider, device: Device) -> None:
    other = unique("unattached")
    provider.server.client("iot").create_thing(thingName=other)
    assert_refused(device_curl(provider, device, thing=other), 403, "Invalid thing name passed")


def test_thing_check_comes_before_the_policy_check(provider: Provider, device: Device) -> None:
    result = device_curl(provider, device, thing="no-such-thing", alias="NotAllowedAlias")
    assert_refused(result, 403, "Invalid thing name passed")


def test_policy_not_allowing_the_alias_is_access_denied(provider: Provider, device: Device) -> None:
    # The alias exists, but the device's policy names another one.
    role_arn = provider.server.client("iam").get_role(RoleName=device.role)["Role"]["Arn"]
    other = unique("OtherAlias")
    provider.server.client("iot").create_role_alias(roleAlias=other, roleArn=role_arn)
    assert_refused(device_curl(provider, device, alias=other), 403, "Access Denied", "AccessDeniedException")


def test_missing_alias_is_access_denied_unless_the_policy_allows_it(provider: Provider, tmp_path: Path) -> None:
    device = make_device(provider, tmp_path)
    assert_refused(device_curl(provider, device, alias="NoSuchAlias"), 403, "Access Denied")
    iot = provider.server.client("iot")
    policy = unique("all-aliases")
    iot.create_policy(policyName=policy, policyDocument=allow(["iot:AssumeRoleWithCertificate"], "*"))
    iot.attach_policy(policyName=policy, target=device.certificate_arn)
    result = device_curl(provider, device, alias="NoSuchAlias")
    assert_refused(result, 404, "Role alias does not exist", "ResourceNotFoundException")


def test_role_that_does_not_trust_the_provider_is_refused(provider: Provider, tmp_path: Path) -> None:
    role = make_role(provider, trusted=("sagemaker.amazonaws.com",))
    # CreateRoleAlias does not look at the trust policy; the exchange does.
    device = make_device(provider, tmp_path, role=role)
    result = device_curl(provider, device)
    assert_refused(result, 400, "Unable to assume the role, or the role to assume does not exist")


def test_deleted_role_is_refused(provider: Provider, tmp_path: Path) -> None:
    device = make_device(provider, tmp_path)
    iam = provider.server.client("iam")
    iam.delete_role_policy(RoleName=device.role, PolicyName="own-thing")
    iam.delete_role(RoleName=device.role)
    assert_refused(
        device_curl(provider, device), 400, "Unable to assume the role, or the role to assume does not exist"
    )


def test_alias_duration_beyond_the_roles_maximum_is_refused(provider: Provider, tmp_path: Path) -> None:
    role = make_role(provider, max_duration=7200)
    device = make_device(provider, tmp_path, role=role, duration=7200)
    assert device_curl(provider, device).status == 200
    provider.server.client("iam").update_role(RoleName=role, MaxSessionDuration=3600)
    result = device_curl(provider, device)
    assert_refused(
        result, 400, "The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role"
    )


def test_malformed_alias_is_a_validation_error(provider: Provider, device: Device) -> None:
    result = device_curl(provider, device, alias="bad%20alias")
    assert result.status == 400
    assert "at 'roleAlias' failed to satisfy constraint" in result.json()["message"]


def test_other_paths_are_not_found(provider: Provider, device: Device) -> None:
    url = f"https://{provider.endpoint()}/things/{device.thing}"
    result = curl(provider, url, cert=device.cert_file, key=device.key_file)
    assert (result.status, result.json()) == (404, {"message": "Not Found"})


# -- certificate status, on open connections -------------------------------------------------------------


def test_status_change_applies_to_the_next_request_on_an_open_connection(provider: Provider, tmp_path: Path) -> None:
    device = make_device(provider, tmp_path)
    iot = provider.server.client("iot")
    connection = https_connection(provider, client_context(provider, device.cert_file, device.key_file))
    path = f"/role-aliases/{device.alias}/credentials"
    try:
        assert get(connection, path)[0] == 200
        sock = connection.sock
        for status in ("INACTIVE", "REVOKED"):
            iot.update_certificate(certificateId=device.certificate_id, newStatus=status)
            assert get(connection, path) == (403, {"message": "Certificate is invalid on this endpoint"})
        assert connection.sock is sock  # the same TLS session all along: keep-alive
    finally:
        connection.close()
    result = device_curl(provider, device)
    assert result.exit_code != 0 or result.status == 403
