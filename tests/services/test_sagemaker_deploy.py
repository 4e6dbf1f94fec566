"""Edge deployment plans and stages through boto3 and the AWS CLI: registered model packages
(`edgeward models register`), device selection, starting and stopping stages, what GetDeployments hands a
device, and how DeploymentResults in heartbeats show in DescribeEdgeDeploymentPlan and ListStageDevices.

Devices here are driven with the administrator's credentials (IAM allows everything); a device acting with
its own certificate-issued credentials is the end-to-end test's part (tests/e2e/test_agent_edge.py).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

ARTIFACT = b"packaged model bytes " * 1000
BUCKET_PREFIX = "sagemaker-models"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def where(server: RunningServer) -> list[str]:
    """The `--data-dir` or `--database-url` of the server, for edgeward's own commands."""
    args = [str(arg) for arg in server.process.args]  # type: ignore[union-attr]
    if "--database-url" in args:
        return ["--database-url", args[args.index("--database-url") + 1]]
    return ["--data-dir", str(server.data_dir)]


def register(server: RunningServer, job: str, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "edgeward.cli.main", "models", "register", *where(server), job]
    command += ["--model-name", "detector", "--model-version", "1.0", "--s3-url", url, *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def upload_model(server: RunningServer, body: bytes = ARTIFACT, **extra: Any) -> str:
    s3, bucket = server.client("s3"), unique(BUCKET_PREFIX)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="models/detector-1.0.tar.gz", Body=body, **extra)
    return f"s3://{bucket}/models/detector-1.0.tar.gz"


def packaged(server: RunningServer) -> str:
    job = unique("job")
    done = register(server, job, upload_model(server))
    assert done.returncode == 0, done.stderr
    return job


def fleet_with_devices(server: RunningServer, names: list[str]) -> str:
    sm, fleet = server.client("sagemaker"), unique("fleet")
    sm.create_device_fleet(DeviceFleetName=fleet, OutputConfig={"S3OutputLocation": "s3://sagemaker-out/x"})
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": name} for name in names])
    return fleet


def stage(name: str, kind: str, value: Any, policy: str | None = None) -> dict[str, Any]:
    member = {"SELECTION": "DeviceNames", "NAMECONTAINS": "DeviceNameContains", "PERCENTAGE": "Percentage"}[kind]
    config: dict[str, Any] = {"StageName": name, "DeviceSelectionConfig": {"DeviceSubsetType": kind, member: value}}
    if policy:
        config["DeploymentConfig"] = {"FailureHandlingPolicy": policy}
    return config


def stage_devices(server: RunningServer, plan: str, name: str) -> dict[str, str]:
    pages = server.client("sagemaker").get_paginator("list_stage_devices")
    summaries = [
        s
        for page in pages.paginate(EdgeDeploymentPlanName=plan, StageName=name, PaginationConfig={"PageSize": 2})
        for s in page["DeviceDeploymentSummaries"]
    ]
    return {s["DeviceName"]: s["DeviceDeploymentStatus"] for s in summaries}


def test_register_a_packaged_model(server: RunningServer) -> None:
    sm, job = server.client("sagemaker"), unique("job")
    url = upload_model(server)
    done = register(server, job, url)
    assert done.returncode == 0, done.stderr
    got = sm.describe_edge_packaging_job(EdgePackagingJobName=job)
    assert got["EdgePackagingJobStatus"] == "COMPLETED" and got["ModelArtifact"] == url
    assert got["ModelName"] == "detector" and got["ModelVersion"] == "1.0"
    assert got["ModelSignature"] == hashlib.sha1(ARTIFACT).hexdigest()
    assert got["EdgePackagingJobArn"].endswith(f":edge-packaging-job/{job}")
    listed = sm.list_edge_packaging_jobs(NameContains=job)["EdgePackagingJobSummaries"]
    assert [item["EdgePackagingJobName"] for item in listed] == [job]
    # An object uploaded with a SHA-1 checksum gives its stored one; an explicit --sha1 needs no object at all.
    body = b"checked upload"
    checked = register(server, unique("job"), upload_model(server, body, ChecksumAlgorithm="SHA1"))
    assert json.loads(checked.stdout)["ModelSignature"] == hashlib.sha1(body).hexdigest()
    outside = register(server, unique("job"), "s3://elsewhere/model.tgz", "--sha1", "ab" * 20)
    assert outside.returncode == 0 and json.loads(outside.stdout)["ModelSignature"] == "ab" * 20


def test_register_refuses_what_it_cannot_vouch_for(server: RunningServer) -> None:
    missing = register(server, unique("job"), "s3://no-such-bucket/model.tgz")
    assert missing.returncode == 1 and "no object s3://no-such-bucket/model.tgz" in missing.stderr
    bad = register(server, "bad_name", "s3://b/k", "--sha1", "ab" * 20)
    assert bad.returncode == 1 and "packaging job name" in bad.stderr
    with pytest.raises(ClientError) as caught:
        server.client("sagemaker").describe_edge_packaging_job(EdgePackagingJobName="never-registered")
    assert error_of(caught)[0] == "ResourceNotFound" and "edgeward models register" in error_of(caught)[1]


def test_a_stage_deploys_to_its_devices(server: RunningServer) -> None:
    sm, edge = server.client("sagemaker"), server.client("sagemaker-edge")
    job = packaged(server)
    names = ["cam-a", "cam-b", "gate-a", "gate-b"]
    devices = [unique(name) for name in names]
    fleet = fleet_with_devices(server, devices)
    plan = unique("plan")
    arn = sm.create_edge_deployment_plan(
        EdgeDeploymentPlanName=plan,
        DeviceFleetName=fleet,
        ModelConfigs=[{"ModelHandle": "detector", "EdgePackagingJobName": job}],
        Stages=[
            stage("canary", "SELECTION", [devices[0], devices[1]], "DO_NOTHING"),
            stage("gates", "NAMECONTAINS", "gate"),
        ],
    )["EdgeDeploymentPlanArn"]
    assert arn.endswith(f":edge-deployment/{plan}")
    described = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan)
    assert [s["DeploymentStatus"]["StageStatus"] for s in described["Stages"]] == ["READYTODEPLOY"] * 2
    assert described["Stages"][1]["DeploymentConfig"] == {"FailureHandlingPolicy": "ROLLBACK_ON_FAILURE"}
    assert stage_devices(server, plan, "gates") == {devices[2]: "READYTODEPLOY", devices[3]: "READYTODEPLOY"}

    sm.start_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="canary")
    deployments = edge.get_deployments(DeviceName=devices[0], DeviceFleetName=fleet)["Deployments"]
    assert len(deployments) == 1
    deployment = deployments[0]
    assert deployment["Type"] == "Model" and deployment["FailureHandlingPolicy"] == "DO_NOTHING"
    assert deployment["DeploymentName"].startswith(f"{plan}-canary-")
    [definition] = deployment["Definitions"]
    assert definition["ModelHandle"] == "detector" and definition["State"] == "DEPLOY"
    assert definition["S3Url"].startswith("s3://" + BUCKET_PREFIX)
    assert definition["Checksum"] == {"Type": "SHA1", "Sum": hashlib.sha1(ARTIFACT).hexdigest()}
    assert edge.get_deployments(DeviceName=devices[2], DeviceFleetName=fleet)["Deployments"] == []
    stages = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan)["Stages"]
    canary = stages[0]["DeploymentStatus"]
    assert canary["StageStatus"] == "INPROGRESS" and canary["EdgeDeploymentPendingInStage"] == 2
    assert "EdgeDeploymentStageStartTime" in canary

    name = deployment["DeploymentName"]
    model = {"ModelHandle": "detector", "ModelName": "detector", "ModelVersion": "1.0", "State": "DEPLOY"}
    edge.send_heartbeat(
        AgentVersion="1",
        DeviceName=devices[0],
        DeviceFleetName=fleet,
        DeploymentResult={
            "DeploymentName": name,
            "DeploymentStatus": "SUCCESS",
            "DeploymentModels": [{**model, "Status": "SUCCESS"}],
        },
    )
    edge.send_heartbeat(
        AgentVersion="1",
        DeviceName=devices[1],
        DeviceFleetName=fleet,
        DeploymentResult={
            "DeploymentName": name,
            "DeploymentStatus": "FAIL",
            "DeploymentModels": [{**model, "Status": "FAIL", "StatusReason": "checksum mismatch"}],
        },
    )
    assert edge.get_deployments(DeviceName=devices[0], DeviceFleetName=fleet)["Deployments"] == []
    described = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan)
    assert (
        described["EdgeDeploymentSuccess"],
        described["EdgeDeploymentPending"],
        described["EdgeDeploymentFailed"],
    ) == (1, 0, 1)
    assert described["Stages"][0]["DeploymentStatus"]["StageStatus"] == "FAILED"
    assert stage_devices(server, plan, "canary") == {devices[0]: "DEPLOYED", devices[1]: "FAILED"}
    listed = sm.list_stage_devices(EdgeDeploymentPlanName=plan, StageName="canary")["DeviceDeploymentSummaries"]
    failed = next(s for s in listed if s["DeviceName"] == devices[1])
    assert failed["DeviceDeploymentStatusMessage"] == "checksum mismatch" and failed["DeviceFleetName"] == fleet
    assert next(s for s in listed if s["DeviceName"] == devices[0])["DeployedStageName"] == "canary"

    # The second stage starts, one device reports, then the stage stops: the other gets nothing more.
    sm.start_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="gates")
    with pytest.raises(ClientError) as busy:
        sm.delete_edge_deployment_plan(EdgeDeploymentPlanName=plan)
    assert error_of(busy)[0] == "ResourceInUse"
    with pytest.raises(ClientError) as busy_stage:
        sm.delete_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="gates")
    assert error_of(busy_stage)[0] == "ResourceInUse"
    sm.stop_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="gates")
    assert edge.get_deployments(DeviceName=devices[2], DeviceFleetName=fleet)["Deployments"] == []
    gates = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan)["Stages"][1]["DeploymentStatus"]
    assert gates["StageStatus"] == "STOPPED" and gates["EdgeDeploymentPendingInStage"] == 0
    assert stage_devices(server, plan, "gates") == {devices[2]: "STOPPED", devices[3]: "STOPPED"}
    sm.delete_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="gates")
    sm.delete_edge_deployment_plan(EdgeDeploymentPlanName=plan)
    with pytest.raises(ClientError) as gone:
        sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan)
    assert error_of(gone) == ("ResourceNotFound", f"Edge deployment plan {plan} does not exist.")


def test_percentage_and_later_stages(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    job = packaged(server)
    devices = sorted(unique(f"dev{i}") for i in range(5))
    fleet = fleet_with_devices(server, devices)
    plan = unique("plan")
    sm.create_edge_deployment_plan(
        EdgeDeploymentPlanName=plan,
        DeviceFleetName=fleet,
        ModelConfigs=[{"ModelHandle": "detector", "EdgePackagingJobName": job}],
    )
    sm.create_edge_deployment_stage(EdgeDeploymentPlanName=plan, Stages=[stage("half", "PERCENTAGE", 50)])
    sm.create_edge_deployment_stage(EdgeDeploymentPlanName=plan, Stages=[stage("all", "PERCENTAGE", 100)])
    assert set(stage_devices(server, plan, "half")) == set(devices[:3])  # 50 % of 5, rounded up, by name
    sm.start_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="all")
    assert stage_devices(server, plan, "all") == dict.fromkeys(devices, "INPROGRESS")
    first = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan, MaxResults=1)
    assert [s["StageName"] for s in first["Stages"]] == ["half"]
    rest = sm.describe_edge_deployment_plan(EdgeDeploymentPlanName=plan, MaxResults=1, NextToken=first["NextToken"])
    assert [s["StageName"] for s in rest["Stages"]] == ["all"] and "NextToken" not in rest
    assert rest["EdgeDeploymentPending"] == 5


def test_bad_plans_and_stages_are_refused(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    job = packaged(server)
    device = unique("dev")
    fleet = fleet_with_devices(server, [device])
    configs = [{"ModelHandle": "detector", "EdgePackagingJobName": job}]
    plan = unique("plan")
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"ModelConfigs": [{"ModelHandle": "m", "EdgePackagingJobName": "nope"}]},
            "ValidationException",
            "edgeward models register",
        ),
        ({"ModelConfigs": configs * 2}, "ValidationException", "unique"),
        ({"DeviceFleetName": "ghost-fleet"}, "ValidationException", "No device fleet with name ghost-fleet"),
        ({"Stages": [stage("s", "SELECTION", ["ghost"])]}, "ValidationException", "ghost are not registered"),
        (
            {"Stages": [stage("s", "PERCENTAGE", 10), stage("s", "PERCENTAGE", 20)]},
            "ValidationException",
            "given twice",
        ),
        (
            {"Stages": [{"StageName": "s", "DeviceSelectionConfig": {"DeviceSubsetType": "NAMECONTAINS"}}]},
            "ValidationException",
            "needs DeviceNameContains",
        ),
        ({"Stages": [stage(f"s{i}", "PERCENTAGE", 1) for i in range(21)]}, "ResourceLimitExceeded", "at most 20"),
    ]
    for change, code, text in cases:
        request = {"EdgeDeploymentPlanName": plan, "DeviceFleetName": fleet, "ModelConfigs": configs, **change}
        with pytest.raises(ClientError) as caught:
            sm.create_edge_deployment_plan(**request)
        assert error_of(caught)[0] == code and text in error_of(caught)[1], (change, error_of(caught))
    assert sm.list_edge_deployment_plans(NameContains=plan)["EdgeDeploymentPlanSummaries"] == []  # nothing half-made
    sm.create_edge_deployment_plan(
        EdgeDeploymentPlanName=plan, DeviceFleetName=fleet, ModelConfigs=configs, Stages=[stage("s", "PERCENTAGE", 100)]
    )
    with pytest.raises(ClientError) as again:
        sm.create_edge_deployment_plan(EdgeDeploymentPlanName=plan, DeviceFleetName=fleet, ModelConfigs=configs)
    assert error_of(again)[0] == "ResourceInUse"
    with pytest.raises(ClientError) as taken:
        sm.create_edge_deployment_stage(EdgeDeploymentPlanName=plan, Stages=[stage("s", "PERCENTAGE", 1)])
    assert error_of(taken)[0] == "ValidationException"
    with pytest.raises(ClientError) as stopped:
        sm.stop_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="s")
    assert "has not started" in error_of(stopped)[1]
    sm.start_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="s")
    with pytest.raises(ClientError) as twice:
        sm.start_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="s")
    assert "already started" in error_of(twice)[1]
    for call in (
        lambda: sm.start_edge_deployment_stage(EdgeDeploymentPlanName=plan, StageName="ghost"),
        lambda: sm.list_stage_devices(EdgeDeploymentPlanName="ghost-plan", StageName="s"),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert error_of(missing)[0] == "ValidationException" and "does not exist" in error_of(missing)[1]


def test_list_plans_filters_sorts_and_pages(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    job = packaged(server)
    tag = uuid.uuid4().hex[:6]
    fleets = [fleet_with_devices(server, [unique("dev")]) for _ in range(2)]
    plans = [f"plan-{tag}-{i}" for i in range(3)]
    for i, plan in enumerate(plans):
        sm.create_edge_deployment_plan(
            EdgeDeploymentPlanName=plan,
            DeviceFleetName=fleets[i % 2],
            ModelConfigs=[{"ModelHandle": "detector", "EdgePackagingJobName": job}],
        )
    newest_first = sm.list_edge_deployment_plans(NameContains=tag)["EdgeDeploymentPlanSummaries"]
    assert [p["EdgeDeploymentPlanName"] for p in newest_first] == plans[::-1]
    assert newest_first[0]["EdgeDeploymentPending"] == 0 and newest_first[0]["DeviceFleetName"] == fleets[0]
    pages = sm.get_paginator("list_edge_deployment_plans").paginate(
        NameContains=tag, SortBy="NAME", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    assert [p["EdgeDeploymentPlanName"] for page in pages for p in page["EdgeDeploymentPlanSummaries"]] == plans
    by_fleet = sm.list_edge_deployment_plans(NameContains=tag, DeviceFleetNameContains=fleets[1])
    assert [p["EdgeDeploymentPlanName"] for p in by_fleet["EdgeDeploymentPlanSummaries"]] == [plans[1]]
    first = sm.list_edge_deployment_plans(NameContains=tag, MaxResults=1)
    with pytest.raises(ClientError) as caught:
        sm.list_edge_deployment_plans(NameContains=tag, SortBy="NAME", NextToken=first["NextToken"])
    assert error_of(caught)[0] == "ValidationException"


def test_aws_cli_describes_a_plan(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    job = packaged(server)
    fleet = fleet_with_devices(server, [unique("dev")])
    plan = unique("plan")
    sm.create_edge_deployment_plan(
        EdgeDeploymentPlanName=plan,
        DeviceFleetName=fleet,
        ModelConfigs=[{"ModelHandle": "detector", "EdgePackagingJobName": job}],
        Stages=[stage("all", "PERCENTAGE", 100)],
    )
    out = subprocess.run(
        ["aws", "sagemaker", "describe-edge-deployment-plan", "--edge-deployment-plan-name", plan],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["DeviceFleetName"] == fleet and shown["Stages"][0]["StageName"] == "all"
