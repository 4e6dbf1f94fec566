"""DeepLens-style registration end to end: register, the one-time bundle, `edgeward-agent setup` with the zip as
it is, credentials over real mTLS (Registered), a heartbeat from `edgeward-agent run --once` (Online),
deregistration revoking the certificate, re-registration with a new one, names, statuses and denials."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from edgeward.core.errors import ServiceError
from edgeward.services.deeplens.names import MAX_NAME, sagemaker_device_name
from tests.e2e.mtls import Provider, curl, start_provider
from tests.services.deeplens_support import (
    DeepLens,
    agent,
    bundle_files,
    bundle_modes,
    create_roles,
    make_user,
    open_deeplens,
    unique,
    write,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    for running in start_provider(tmp_path_factory, request.param):
        create_roles(running)
        yield running


@pytest.fixture(scope="module")
def deeplens(provider: Provider) -> Iterator[DeepLens]:
    yield from open_deeplens(provider)


def register(deeplens: DeepLens, name: str) -> dict[str, object]:
    return deeplens.call("RegisterDevice", {"DeviceName": name})


def download(deeplens: DeepLens, name: str) -> bytes:
    bundle = deeplens.call("DownloadCertificateBundle", {"DeviceName": name})
    assert bundle["FileName"] == f"{name}-certificates.zip"
    data: bytes = bundle["Bundle"]
    return data


def setup(zip_path: Path, directory: Path) -> Path:
    config = directory / "agent" / "config.json"
    agent("setup", "--certificates", str(zip_path), "--config", str(config))
    return config


def fresh_credentials(provider: Provider, device_dir: Path, alias: str, thing: str) -> tuple[int, object]:
    """One exchange with the files `setup` installed (curl, no cache): the provider's answer."""
    answer = curl(
        provider,
        provider.url(alias),
        cert=device_dir / "device.pem.crt",
        key=device_dir / "device.pem.key",
        thing=thing,
    )
    return answer.status, answer.json()


def test_register_download_once_setup_credentials_heartbeat(
    provider: Provider, deeplens: DeepLens, tmp_path: Path
) -> None:
    name = unique("deeplens-cam")
    registered = register(deeplens, name)
    assert registered["RegistrationStatus"] == "Awaiting credentials"
    assert registered["DeviceStatus"] == "Offline"
    assert registered["CertificateBundleAvailable"] is True
    assert registered["RoleAlias"] == f"DeepLens-{name}"
    assert registered["Roles"]["GreengrassGroupRole"].endswith(":role/AWSDeepLensGreengrassGroupRole")  # type: ignore[index]

    # What registration made, seen through IoT with boto3.
    iot = provider.server.client("iot")
    thing = iot.describe_thing(thingName=name)
    assert thing["thingTypeName"] == "deeplens"
    cert = iot.describe_certificate(certificateId=registered["CertificateId"])["certificateDescription"]
    assert cert["status"] == "ACTIVE"
    assert iot.list_thing_principals(thingName=name)["principals"] == [registered["CertificateArn"]]
    attached = iot.list_attached_policies(target=registered["CertificateArn"])["policies"]
    assert [p["policyName"] for p in attached] == [f"DeepLens-{name}-policy"]
    alias = iot.describe_role_alias(roleAlias=f"DeepLens-{name}")["roleAliasDescription"]
    assert alias["roleArn"].endswith(":role/AWSDeepLensGreengrassGroupRole")

    data = download(deeplens, name)
    files = bundle_files(data)
    assert set(files) == {"certs/device.pem.crt", "certs/device.pem.key", "certs/root.ca.pem", "config/config.json"}
    assert bundle_modes(data)["certs/device.pem.key"] == 0o600
    assert files["certs/device.pem.crt"].decode() == cert["certificatePem"]
    assert files["certs/root.ca.pem"] == provider.ca_file.read_bytes()
    config = json.loads(files["config/config.json"])
    assert config["deviceName"] == config["thingName"] == name
    assert config["credentialsEndpoint"] == provider.endpoint()
    assert config["apiEndpoint"] == provider.server.endpoint
    assert config["roleAlias"] == f"DeepLens-{name}"
    assert config["region"] == "us-east-1"

    with pytest.raises(ServiceError) as second:
        download(deeplens, name)
    assert second.value.code == "ConflictException"
    assert "downloaded already" in second.value.message and "only once" in second.value.message
    assert deeplens.describe(name)["CertificateBundleAvailable"] is False

    config_path = setup(write(tmp_path / f"{name}.zip", data), tmp_path)
    installed = config_path.parent
    assert stat.S_IMODE((installed / "device.pem.key").stat().st_mode) == 0o600
    agent_config = json.loads(config_path.read_text())
    assert agent_config["device_fleet_name"] == "deeplens" and agent_config["thing_name"] == name

    issued = json.loads(agent("credentials", "--config", str(config_path)).stdout)
    assert issued["AccessKeyId"].startswith("ASIA")
    described = deeplens.describe(name)
    assert described["RegistrationStatus"] == "Registered"
    assert "FirstAuthenticatedAt" in described
    assert described["DeviceStatus"] == "Offline"

    agent("run", "--once", "--config", str(config_path))
    described = deeplens.describe(name)
    assert described["DeviceStatus"] == "Online"
    assert "LatestHeartbeat" in described


def test_deregister_revokes_and_reregistering_issues_a_new_certificate(
    provider: Provider, deeplens: DeepLens, tmp_path: Path
) -> None:
    name = unique("cam")
    old = register(deeplens, name)
    old_dir = setup(write(tmp_path / "old.zip", download(deeplens, name)), tmp_path / "old").parent
    assert fresh_credentials(provider, old_dir, f"DeepLens-{name}", name)[0] == 200

    done = deeplens.call("DeregisterDevice", {"DeviceName": name})
    assert done["CertificateStatus"] == "REVOKED"
    status, body = fresh_credentials(provider, old_dir, f"DeepLens-{name}", name)
    assert status == 403, body
    iot = provider.server.client("iot")
    cert = iot.describe_certificate(certificateId=old["CertificateId"])["certificateDescription"]
    assert cert["status"] == "REVOKED"
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing(thingName=name)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_role_alias(roleAlias=f"DeepLens-{name}")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_policy(policyName=f"DeepLens-{name}-policy")
    sagemaker = provider.server.client("sagemaker")
    with pytest.raises(sagemaker.exceptions.ClientError):
        sagemaker.describe_device(DeviceName=name, DeviceFleetName="deeplens")
    with pytest.raises(ServiceError) as gone:
        deeplens.describe(name)
    assert gone.value.code == "ResourceNotFoundException"

    new = register(deeplens, name)
    assert new["CertificateId"] != old["CertificateId"]
    new_dir = setup(write(tmp_path / "new.zip", download(deeplens, name)), tmp_path / "new").parent
    assert fresh_credentials(provider, new_dir, f"DeepLens-{name}", name)[0] == 200
    assert fresh_credentials(provider, old_dir, f"DeepLens-{name}", name)[0] == 403


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("under_score", "letters (A-Z, a-z), digits (0-9) and dashes (-)"),
        ("dot.ted", "letters (A-Z, a-z), digits (0-9) and dashes (-)"),
        ("x" * (MAX_NAME + 1), "less than or equal to 100"),
        ("", "DeviceName is required"),
    ],
)
def test_device_names_are_checked(deeplens: DeepLens, name: str, why: str) -> None:
    with pytest.raises(ServiceError) as refused:
        register(deeplens, name)
    assert refused.value.code == "ValidationException"
    assert refused.value.status == 400
    assert why in refused.value.message


def test_long_names_and_uniqueness(provider: Provider, deeplens: DeepLens) -> None:
    name = "-" + unique("x" * 90)  # a leading dash and 100 characters: fine for DeepLens, not for SageMaker
    assert len(name) == MAX_NAME
    registered = register(deeplens, name)
    assert registered["SageMakerDeviceName"] == sagemaker_device_name(name) != name
    with pytest.raises(ServiceError) as taken:
        register(deeplens, name)
    assert taken.value.code == "ResourceAlreadyExistsException"
    assert f"Device {name} is already registered" in taken.value.message

    thing = unique("plain-thing")
    provider.server.client("iot").create_thing(thingName=thing)
    with pytest.raises(ServiceError) as clash:
        register(deeplens, thing)
    assert clash.value.code == "ResourceAlreadyExistsException"
    assert "An IoT thing named" in clash.value.message


def test_failed_with_a_reason_when_the_device_cannot_authenticate(provider: Provider, deeplens: DeepLens) -> None:
    name = unique("cam")
    registered = register(deeplens, name)
    iot = provider.server.client("iot")
    policy, cert = f"DeepLens-{name}-policy", str(registered["CertificateArn"])
    iot.detach_policy(policyName=policy, target=cert)
    described = deeplens.describe(name)
    assert described["RegistrationStatus"] == "Failed"
    assert "iot:AssumeRoleWithCertificate" in described["RegistrationStatusReason"]
    iot.attach_policy(policyName=policy, target=cert)
    assert deeplens.describe(name)["RegistrationStatus"] == "Awaiting credentials"
    iot.update_certificate(certificateId=registered["CertificateId"], newStatus="INACTIVE")
    described = deeplens.describe(name)
    assert described["RegistrationStatus"] == "Failed"
    assert "is INACTIVE" in described["RegistrationStatusReason"]
    listed = {d["DeviceName"]: d for d in deeplens.call("ListDevices", {})["Devices"]}
    assert listed[name]["RegistrationStatus"] == "Failed"


def test_credentials_role_must_trust_the_credentials_provider(provider: Provider, deeplens: DeepLens) -> None:
    iam = provider.server.client("iam")
    role = unique("GroupRoleWithoutProvider")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "greengrass.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    name = unique("cam")
    with pytest.raises(ServiceError) as refused:
        deeplens.call("RegisterDevice", {"DeviceName": name, "Roles": {"GreengrassGroupRole": role}})
    assert refused.value.code == "ValidationException"
    assert "does not trust credentials.iot.amazonaws.com" in refused.value.message
    with pytest.raises(ServiceError) as missing:
        deeplens.call("RegisterDevice", {"DeviceName": name, "Roles": {"LambdaRole": "NoSuchRole"}})
    assert "NoSuchRole does not exist" in missing.value.message


# What a user needs to register a device: the DeepLens action and each IoT/IAM/SageMaker action it performs.
REGISTER_ACTIONS = [
    "deeplens:RegisterDevice",
    "iam:PassRole",
    "iot:CreateThing",
    "iot:CreateKeysAndCertificate",
    "iot:CreateRoleAlias",
    "iot:CreatePolicy",
    "iot:AttachPolicy",
    "iot:AttachThingPrincipal",
    "sagemaker:RegisterDevices",
]


def test_denials_name_the_missing_permission(provider: Provider, deeplens: DeepLens) -> None:
    register(deeplens, unique("first"))  # the thing type and fleet exist from here on
    nobody = deeplens.user(make_user(provider, []))
    name = unique("cam")
    with pytest.raises(ServiceError) as denied:
        deeplens.call("RegisterDevice", {"DeviceName": name}, nobody)
    assert denied.value.code == "AccessDeniedException" and denied.value.status == 403
    assert denied.value.message == (
        f"User: {nobody.arn} is not authorized to perform: deeplens:RegisterDevice on resource: "
        f"arn:aws:deeplens:us-east-1:{deeplens.account}:device/{name} "
        "because no identity-based policy allows the deeplens:RegisterDevice action"
    )

    partial = deeplens.user(make_user(provider, [a for a in REGISTER_ACTIONS if a != "iot:CreateRoleAlias"]))
    with pytest.raises(ServiceError) as denied:
        deeplens.call("RegisterDevice", {"DeviceName": name}, partial)
    assert "is not authorized to perform: iot:CreateRoleAlias on resource: arn:aws:iot:us-east-1:" in str(
        denied.value.message
    )
    with pytest.raises(ServiceError) as nothing_left:  # the refused registration left nothing behind
        deeplens.describe(name)
    assert nothing_left.value.code == "ResourceNotFoundException"
    with pytest.raises(provider.server.client("iot").exceptions.ResourceNotFoundException):
        provider.server.client("iot").describe_thing(thingName=name)

    operator = deeplens.user(
        make_user(provider, [*REGISTER_ACTIONS, "deeplens:DownloadCertificateBundle", "deeplens:DescribeDevice"])
    )
    assert deeplens.call("RegisterDevice", {"DeviceName": name}, operator)["RegistrationStatus"] == (
        "Awaiting credentials"
    )
    assert deeplens.call("DownloadCertificateBundle", {"DeviceName": name}, operator)["Bundle"]
    with pytest.raises(ServiceError) as no_deregister:
        deeplens.call("DeregisterDevice", {"DeviceName": name}, operator)
    assert "deeplens:DeregisterDevice" in no_deregister.value.message


def test_one_of_concurrent_registrations_of_a_name_wins(deeplens: DeepLens) -> None:
    name = unique("race")

    def attempt(_: int) -> str:
        try:
            register(deeplens, name)
        except ServiceError as exc:
            return exc.code
        return "registered"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))
    assert outcomes == ["ResourceAlreadyExistsException"] * 3 + ["registered"]
    assert deeplens.describe(name)["RegistrationStatus"] == "Awaiting credentials"
