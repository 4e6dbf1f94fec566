"""The device data plane (sagemaker-edge) through boto3 and curl: heartbeats and what they feed
(DescribeDevice, ListDevices, GetDeviceFleetReport), registration status, deployments, and the rule that a
device acts only for itself.

Device credentials are issued the way the IoT credentials provider issues them (`issue_credentials` with the
`credentials-iot:ThingName` session context), straight on the server's database: the mTLS hop is not this
area's and is tested with the provider.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.services.sts.credentials import issue_credentials
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import roles, sessions
from edgeward.storage.secrets import SecretBox
from tests.serverfixtures import RunningServer

OUTPUT = {"S3OutputLocation": "s3://sagemaker-edge-demo-bucket/device_output"}
EDGE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["credentials.iot.amazonaws.com", "sagemaker.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
DEVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonSageMakerEdgeDeviceFleetPolicy"


@dataclass
class Backstage:
    """The server's own database and key, to issue device credentials as the credentials provider does."""

    db: Database
    box: SecretBox
    account: str

    def device_credentials(self, role_name: str, thing: str) -> dict[str, str]:
        with self.db.transaction() as conn:
            role = roles.get_role(conn, self.account, role_name)
            assert role is not None
            issued = issue_credentials(
                conn,
                self.box,
                account=self.account,
                kind=sessions.ASSUMED_ROLE,
                duration_seconds=3600,
                role_id=role.id,
                session_name=secrets.token_hex(32),  # the provider names sessions after the certificate id
                context={"credentials-iot:ThingName": thing},
            )
        return {"key": issued.access_key_id, "secret": issued.secret_access_key, "token": issued.session_token}


@pytest.fixture(scope="module")
def backstage(server: RunningServer) -> Iterator[Backstage]:
    if server.backend == "sqlite":
        url = sqlite_url(server.data_dir)
    else:
        args = [str(arg) for arg in server.process.args]  # type: ignore[union-attr]
        url = args[args.index("--database-url") + 1]
    db = Database(url)
    try:
        account = server.client("sts").get_caller_identity()["Account"]
        yield Backstage(db, SecretBox.resolve(server.data_dir / "kek"), account)
    finally:
        db.dispose()


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def fleet_with_device(server: RunningServer, thing: str | None = None) -> tuple[str, str]:
    sm = server.client("sagemaker")
    fleet, device = unique("fleet"), unique("device")
    sm.create_device_fleet(DeviceFleetName=fleet, OutputConfig=OUTPUT)
    entry: dict[str, str] = {"DeviceName": device}
    if thing:
        entry["IotThingName"] = thing
    sm.register_devices(DeviceFleetName=fleet, Devices=[entry])
    return fleet, device


def device_role(server: RunningServer) -> str:
    """A fleet role with AWS's managed device policy attached (SendHeartbeat, GetDeviceRegistration)."""
    iam, name = server.client("iam"), unique("SageMakerEdgeRole")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=EDGE_TRUST)
    iam.attach_role_policy(RoleName=name, PolicyArn=DEVICE_POLICY)
    time.sleep(0.3)  # the policy cache re-reads the IAM generation every 250 ms
    return name


def edge_client(server: RunningServer, creds: dict[str, str]) -> Any:
    return server.client("sagemaker-edge", creds["key"], creds["secret"], creds["token"])


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_heartbeat_feeds_describe_list_and_report(server: RunningServer) -> None:
    sm, edge = server.client("sagemaker"), server.client("sagemaker-edge")
    fleet, device = fleet_with_device(server)
    now = datetime.now(UTC)
    edge.send_heartbeat(
        AgentVersion="1.0",
        DeviceName=device,
        DeviceFleetName=fleet,
        Models=[
            {"ModelName": "demo-model", "ModelVersion": "1.0", "LatestInference": now, "LatestSampleTime": now},
            {"ModelName": "idle-model", "ModelVersion": "2.0"},
        ],
        AgentMetrics=[{"Dimension": "cpu", "MetricName": "utilization", "Value": 0.5, "Timestamp": now}],
        DeploymentResult={"DeploymentName": "first", "DeploymentStatus": "SUCCESS"},
    )
    got = sm.describe_device(DeviceName=device, DeviceFleetName=fleet)
    assert got["AgentVersion"] == "1.0" and got["LatestHeartbeat"] >= got["RegistrationTime"]
    assert [m["ModelName"] for m in got["Models"]] == ["demo-model", "idle-model"]
    assert abs(got["Models"][0]["LatestInference"].timestamp() - now.timestamp()) < 0.01
    report = sm.get_device_fleet_report(DeviceFleetName=fleet)
    assert report["DeviceStats"] == {"ConnectedDeviceCount": 1, "RegisteredDeviceCount": 1}
    assert report["AgentVersions"] == [{"Version": "1.0", "AgentCount": 1}]
    stats = {m["ModelName"]: m for m in report["ModelStats"]}
    assert stats["demo-model"]["ActiveDeviceCount"] == 1 and stats["demo-model"]["SamplingDeviceCount"] == 1
    assert stats["idle-model"]["ConnectedDeviceCount"] == 1 and stats["idle-model"]["ActiveDeviceCount"] == 0
    # The next heartbeat replaces what the device reports.
    edge.send_heartbeat(AgentVersion="1.1", DeviceName=device, DeviceFleetName=fleet)
    again = sm.describe_device(DeviceName=device, DeviceFleetName=fleet)
    assert again["AgentVersion"] == "1.1" and again["Models"] == []
    assert again["LatestHeartbeat"] >= got["LatestHeartbeat"]


def test_registration_status_and_deployments(server: RunningServer) -> None:
    sm, edge = server.client("sagemaker"), server.client("sagemaker-edge")
    fleet, device = fleet_with_device(server)
    registered = edge.get_device_registration(DeviceName=device, DeviceFleetName=fleet)
    assert registered["DeviceRegistration"] == "REGISTERED" and int(registered["CacheTTL"]) > 0
    assert edge.get_deployments(DeviceName=device, DeviceFleetName=fleet)["Deployments"] == []
    sm.deregister_devices(DeviceFleetName=fleet, DeviceNames=[device])
    gone = edge.get_device_registration(DeviceName=device, DeviceFleetName=fleet)
    assert gone["DeviceRegistration"] == "DEREGISTERED"


def test_data_plane_not_found_texts(server: RunningServer) -> None:
    edge = server.client("sagemaker-edge")
    fleet, _ = fleet_with_device(server)
    cases = [
        (
            lambda: edge.send_heartbeat(AgentVersion="1", DeviceName="ghost", DeviceFleetName=fleet),
            "No device with name",
        ),
        (
            lambda: edge.send_heartbeat(AgentVersion="1", DeviceName="ghost", DeviceFleetName="ghost-fleet"),
            "No device fleet with name",
        ),
        (lambda: edge.get_deployments(DeviceName="ghost", DeviceFleetName=fleet), "No device with name"),
        (
            lambda: edge.get_device_registration(DeviceName="ghost", DeviceFleetName="ghost-fleet"),
            "No device fleet with name",
        ),
    ]
    for call, prefix in cases:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("ValidationException", 400) and message.startswith(prefix), message


def test_a_device_acts_only_for_itself(server: RunningServer, backstage: Backstage) -> None:
    sm = server.client("sagemaker")
    role = device_role(server)
    fleet, mine = fleet_with_device(server, thing="thing-mine")
    _, theirs = unique("theirs"), unique("theirs")
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": theirs, "IotThingName": "thing-theirs"}])
    edge = edge_client(server, backstage.device_credentials(role, "thing-mine"))
    edge.send_heartbeat(AgentVersion="2.0", DeviceName=mine, DeviceFleetName=fleet)
    assert edge.get_device_registration(DeviceName=mine, DeviceFleetName=fleet)["DeviceRegistration"] == "REGISTERED"
    for call in (
        lambda: edge.send_heartbeat(AgentVersion="6.6.6", DeviceName=theirs, DeviceFleetName=fleet),
        lambda: edge.get_device_registration(DeviceName=theirs, DeviceFleetName=fleet),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDeniedException", 403)
        assert f":assumed-role/{role}/" in message and f"device/{theirs}" in message and "thing-mine" in message
    assert "AgentVersion" not in sm.describe_device(DeviceName=theirs, DeviceFleetName=fleet)
    assert sm.describe_device(DeviceName=mine, DeviceFleetName=fleet)["AgentVersion"] == "2.0"


def test_device_acts_for_itself_unless_explicitly_denied(server: RunningServer, backstage: Backstage) -> None:
    """Seed 001's fleet role grants only S3, yet its device heartbeats: where IAM is silent, a device's own
    credentials speak for that device. An explicit Deny still refuses it, and other callers need IAM."""
    iam = server.client("iam")
    bare = unique("SageMakerBareRole")
    iam.create_role(RoleName=bare, AssumeRolePolicyDocument=EDGE_TRUST)
    fleet, device = fleet_with_device(server, thing="thing-bare")
    edge = edge_client(server, backstage.device_credentials(bare, "thing-bare"))
    edge.send_heartbeat(AgentVersion="1", DeviceName=device, DeviceFleetName=fleet)
    assert edge.get_device_registration(DeviceName=device, DeviceFleetName=fleet)["DeviceRegistration"] == "REGISTERED"

    deny = {"Effect": "Deny", "Action": "sagemaker:SendHeartbeat", "Resource": "*"}
    iam.put_role_policy(
        RoleName=bare,
        PolicyName="no-heartbeats",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny]}),
    )
    denied = edge_client(server, backstage.device_credentials(bare, "thing-bare"))
    with pytest.raises(ClientError) as caught:
        denied.send_heartbeat(AgentVersion="1", DeviceName=device, DeviceFleetName=fleet)
    code, message, _ = error_of(caught)
    assert code == "AccessDeniedException" and "explicit deny" in message

    user = unique("nobody")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    stranger = server.client("sagemaker-edge", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as refused:
        stranger.send_heartbeat(AgentVersion="1", DeviceName=device, DeviceFleetName=fleet)
    assert error_of(refused)[0] == "AccessDeniedException"


def test_heartbeat_with_too_many_models_is_refused(server: RunningServer) -> None:
    edge = server.client("sagemaker-edge")
    fleet, device = fleet_with_device(server)
    models = [{"ModelName": f"model-{i}", "ModelVersion": "1"} for i in range(101)]
    with pytest.raises(ClientError) as caught:
        edge.send_heartbeat(AgentVersion="1", DeviceName=device, DeviceFleetName=fleet, Models=models)
    assert error_of(caught)[0] == "ValidationException" and "100" in error_of(caught)[1]


def test_curl_sends_a_signed_heartbeat(server: RunningServer) -> None:
    fleet, device = fleet_with_device(server)
    key, secret = server.admin_keys()
    body = json.dumps({"AgentVersion": "curl.1", "DeviceName": device, "DeviceFleetName": fleet})
    signing = ["--aws-sigv4", "aws:amz:us-east-1:sagemaker", "--user", f"{key}:{secret}"]
    headers = ["-H", "Content-Type: application/json"]
    url = f"{server.endpoint}/SendHeartbeat"
    command = ["curl", "-sS", "--fail-with-body", *signing, *headers, "--data", body, url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, (out.stdout, out.stderr)
    got = server.client("sagemaker").describe_device(DeviceName=device, DeviceFleetName=fleet)
    assert got["AgentVersion"] == "curl.1"
