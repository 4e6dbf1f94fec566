"""The device agent end to end against a real edgeward: `edgeward-agent configure` then `edgeward-agent run
--once` as a subprocess — credentials over mTLS with the device's certificate, a heartbeat, GetDeployments, the
model downloaded from S3 with the device's own credentials and its SHA-1 checked, the result reported, and a
captured data file uploaded to the fleet's S3 output location. Then a model whose registered checksum is wrong:
the agent reports FAIL, the plan shows it, and the model deployed before stays in place.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.mtls import Provider, allow, grant_alias, start_provider, trust_policy, unique

MODEL = b"\x1f\x8b packaged detector v1 " * 4096
CAPTURE = b'{"input": [1, 2, 3], "output": [0.9]}\n'


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param)


@dataclass
class EdgeDevice:
    fleet: str
    name: str
    thing: str
    models_bucket: str
    output_bucket: str
    config: Path
    models_dir: Path
    capture_dir: Path


def where(provider: Provider) -> list[str]:
    args = [str(arg) for arg in provider.server.process.args]  # type: ignore[union-attr]
    if "--database-url" in args:
        return ["--database-url", args[args.index("--database-url") + 1]]
    return ["--data-dir", str(provider.server.data_dir)]


def register_model(provider: Provider, job: str, url: str, *extra: str) -> None:
    command = [sys.executable, "-m", "edgeward.cli.main", "models", "register", *where(provider), job]
    command += ["--model-name", "detector", "--model-version", "1.0", "--s3-url", url, *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgeward.agent.cli", *args], capture_output=True, text=True, timeout=120
    )


def set_up_device(provider: Provider, directory: Path) -> EdgeDevice:
    """Seed 001's steps and then some: fleet role, fleet (its role alias), thing, certificate, IoT policy,
    device, buckets; then the agent's configuration."""
    server = provider.server
    iam, iot, sm, s3 = (server.client(name) for name in ("iam", "iot", "sagemaker", "s3"))
    models_bucket, output_bucket = unique("sagemaker-models"), unique("sagemaker-output")
    for bucket in (models_bucket, output_bucket):
        s3.create_bucket(Bucket=bucket)
    role = unique("SageMakerEdgeRole")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust_policy("credentials.iot.amazonaws.com"))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName=role,
        PolicyName="models-and-capture",
        PolicyDocument=allow(
            ["s3:GetObject", "s3:PutObject"],
            [f"arn:aws:s3:::{models_bucket}/*", f"arn:aws:s3:::{output_bucket}/*"],
        ),
    )
    fleet, name = unique("fleet"), unique("device")
    output = f"s3://{output_bucket}/capture"
    sm.create_device_fleet(DeviceFleetName=fleet, RoleArn=role_arn, OutputConfig={"S3OutputLocation": output})
    alias_arn = sm.describe_device_fleet(DeviceFleetName=fleet)["IotRoleAlias"]
    alias = alias_arn[alias_arn.find("SageMaker") :]
    thing = unique("thing")
    iot.create_thing(thingName=thing)
    created = iot.create_keys_and_certificate(setAsActive=True)
    iot.attach_thing_principal(thingName=thing, principal=created["certificateArn"])
    grant_alias(provider, created["certificateArn"], alias_arn)
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": name, "IotThingName": thing}])
    directory.mkdir(parents=True)
    cert, key = directory / "device.pem.crt", directory / "private.pem.key"
    cert.write_text(created["certificatePem"])
    key.write_text(created["keyPair"]["PrivateKey"])
    device = EdgeDevice(
        fleet,
        name,
        thing,
        models_bucket,
        output_bucket,
        directory / "agent.json",
        directory / "models",
        directory / "capture",
    )
    configured = agent(
        "configure",
        "--config",
        str(device.config),
        "--certificate",
        str(cert),
        "--private-key",
        str(key),
        "--ca",
        str(provider.ca_file),
        "--endpoint",
        provider.endpoint(),
        "--role-alias",
        alias,
        "--thing-name",
        thing,
        "--api-endpoint",
        server.endpoint,
        "--device-name",
        name,
        "--device-fleet-name",
        fleet,
        "--models-dir",
        str(device.models_dir),
        "--capture-dir",
        str(device.capture_dir),
        "--output-location",
        output,
    )
    assert configured.returncode == 0, configured.stderr
    return device


def deploy(provider: Provider, device: EdgeDevice, handle: str, job: str) -> str:
    sm, plan = provider.server.client("sagemaker"), unique("plan")
    sm.create_edge_deployment_plan(
        EdgeDeploymentPlanName=plan,
        DeviceFleetName=device.fleet,
        ModelConfigs=[{"ModelHandle": handle, "EdgePackagingJobName": job}],
        Stages=[
            {
                "StageName": "device",
                "DeviceSelectionConfig": {"DeviceSubsetType": "SELECTION", "DeviceNames": [device.name]},
            }
        ],
    )
    sm.start_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="device")
    return plan


def run_once(device: EdgeDevice) -> dict[str, Any]:
    ran = agent("run", "--once", "--config", str(device.config))
    assert ran.returncode == 0, ran.stderr
    result: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    return result


def test_agent_deploys_a_model_and_uploads_captured_data(provider: Provider, tmp_path: Path) -> None:
    server = provider.server
    sm, s3 = server.client("sagemaker"), server.client("s3")
    device = set_up_device(provider, tmp_path / "device")
    s3.put_object(Bucket=device.models_bucket, Key="detector/model.tar.gz", Body=MODEL)
    job = unique("job")
    register_model(provider, job, f"s3://{device.models_bucket}/detector/model.tar.gz")
    plan = deploy(provider, device, "detector", job)
    device.capture_dir.mkdir()
    (device.capture_dir / "sample-0001.jsonl").write_bytes(CAPTURE)

    result = run_once(device)

    assert result["deployed"] == ["detector"] and result["failed"] == []
    held = device.models_dir / "detector" / "model.tar.gz"
    assert held.read_bytes() == MODEL
    version = hashlib.sha1(MODEL).hexdigest()[:12]
    described = sm.describe_device(DeviceName=device.name, DeviceFleetName=device.fleet)
    assert described["AgentVersion"].startswith("edgeward_agent") and "LatestHeartbeat" in described
    assert [(m["ModelName"], m["ModelVersion"]) for m in described["Models"]] == [("detector", version)]
    shown = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan)
    assert (shown["EdgeDeploymentSuccess"], shown["EdgeDeploymentPending"], shown["EdgeDeploymentFailed"]) == (1, 0, 0)
    assert shown["Stages"][0]["DeploymentStatus"]["StageStatus"] == "DEPLOYED"
    listed = sm.list_stage_devices(EdgeDeploymentPlanName=plan, StageName="device")["DeviceDeploymentSummaries"]
    assert [(d["DeviceName"], d["DeviceDeploymentStatus"]) for d in listed] == [(device.name, "DEPLOYED")]
    report = sm.get_device_fleet_report(DeviceFleetName=device.fleet)
    assert report["DeviceStats"] == {"ConnectedDeviceCount": 1, "RegisteredDeviceCount": 1}
    [stats] = report["ModelStats"]
    assert (stats["ModelName"], stats["ModelVersion"], stats["ConnectedDeviceCount"]) == ("detector", version, 1)
    assert stats["SamplingDeviceCount"] == 1
    key = f"capture/{device.fleet}/{device.name}/capture/sample-0001.jsonl"
    assert result["uploaded"] == [f"s3://{device.output_bucket}/{key}"]
    assert s3.get_object(Bucket=device.output_bucket, Key=key)["Body"].read() == CAPTURE
    assert not any(device.capture_dir.iterdir())

    # Nothing left to do: the next run heartbeats and finds no deployment.
    again = run_once(device)
    assert again == {"deployed": [], "failed": [], "uploaded": []}


def test_a_wrong_checksum_is_reported_as_a_failure(provider: Provider, tmp_path: Path) -> None:
    server = provider.server
    sm, s3 = server.client("sagemaker"), server.client("s3")
    device = set_up_device(provider, tmp_path / "device")
    s3.put_object(Bucket=device.models_bucket, Key="good.tar.gz", Body=MODEL)
    s3.put_object(Bucket=device.models_bucket, Key="tampered.tar.gz", Body=MODEL + b"tampered")
    good, bad = unique("job"), unique("job")
    register_model(provider, good, f"s3://{device.models_bucket}/good.tar.gz")
    register_model(
        provider,
        bad,
        f"s3://{device.models_bucket}/tampered.tar.gz",
        "--sha1",
        hashlib.sha1(b"what was signed").hexdigest(),
    )
    deploy(provider, device, "detector", good)
    assert run_once(device)["deployed"] == ["detector"]

    plan = deploy(provider, device, "detector", bad)
    result = run_once(device)

    assert result["failed"] == ["detector"] and result["deployed"] == []
    shown = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan)
    assert (shown["EdgeDeploymentSuccess"], shown["EdgeDeploymentFailed"]) == (0, 1)
    assert shown["Stages"][0]["DeploymentStatus"]["StageStatus"] == "FAILED"
    [listed] = sm.list_stage_devices(EdgeDeploymentPlanName=plan, StageName="device")["DeviceDeploymentSummaries"]
    assert (
        listed["DeviceDeploymentStatus"] == "FAILED" and "checksum mismatch" in listed["DeviceDeploymentStatusMessage"]
    )
    # The model deployed before stays (ROLLBACK_ON_FAILURE is the default policy).
    assert (device.models_dir / "detector" / "good.tar.gz").read_bytes() == MODEL
    assert not (device.models_dir / "detector" / "tampered.tar.gz").exists()
