"""SageMaker Edge Manager device fleets through boto3 and the AWS CLI: seed 001's fleet and role alias,
PassRole, validation, not-found texts, updates, deletion rules, listing and the fleet report.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

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
OUTPUT = {"S3OutputLocation": "s3://sagemaker-edge-demo-bucket/device_output"}


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def make_role(server: RunningServer, name: str | None = None) -> str:
    arn: str = server.client("iam").create_role(
        RoleName=name or unique("SageMakerEdgeRole"), AssumeRolePolicyDocument=EDGE_TRUST
    )["Role"]["Arn"]
    return arn


def user_client(server: RunningServer, service: str, policy: dict[str, Any] | None = None) -> tuple[Any, str]:
    """A client for a new IAM user with `policy` inline (or none); and the user's ARN."""
    iam = server.client("iam")
    name = unique("user")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    time.sleep(0.3)  # the policy cache re-reads the IAM generation every 250 ms
    return server.client(service, key["AccessKeyId"], key["SecretAccessKey"]), arn


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_seed_fleet_without_the_flag_gets_a_sagemaker_role_alias(server: RunningServer) -> None:
    sm, iot = server.client("sagemaker"), server.client("iot")
    role = make_role(server)
    fleet = "demo-device-fleet" + str(int(time.time()))
    sm.create_device_fleet(DeviceFleetName=fleet, RoleArn=role, OutputConfig=OUTPUT)
    described = sm.describe_device_fleet(DeviceFleetName=fleet)
    account = described["DeviceFleetArn"].split(":")[4]
    assert described["DeviceFleetArn"] == f"arn:aws:sagemaker:us-east-1:{account}:device-fleet/{fleet}"
    assert described["RoleArn"] == role and described["OutputConfig"] == OUTPUT
    assert described["CreationTime"] == described["LastModifiedTime"]
    full = described["IotRoleAlias"]
    assert full == f"arn:aws:iot:us-east-1:{account}:rolealias/SageMakerEdge-{fleet}"
    alias = full[full.find("SageMaker") :]  # the seed's slice
    got = iot.describe_role_alias(roleAlias=alias)["roleAliasDescription"]
    assert got["roleArn"] == role and got["roleAliasArn"] == full and got["credentialDurationSeconds"] == 3600


def test_no_alias_when_disabled_or_without_a_role(server: RunningServer) -> None:
    sm, iot = server.client("sagemaker"), server.client("iot")
    role = make_role(server)
    off, roleless = unique("off"), unique("roleless")
    sm.create_device_fleet(DeviceFleetName=off, RoleArn=role, OutputConfig=OUTPUT, EnableIotRoleAlias=False)
    sm.create_device_fleet(DeviceFleetName=roleless, OutputConfig=OUTPUT, Description="no role: no alias")
    assert "IotRoleAlias" not in sm.describe_device_fleet(DeviceFleetName=off)
    plain = sm.describe_device_fleet(DeviceFleetName=roleless)
    assert "IotRoleAlias" not in plain and "RoleArn" not in plain and plain["Description"] == "no role: no alias"
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_role_alias(roleAlias=f"SageMakerEdge-{off}")
    with pytest.raises(ClientError) as caught:
        sm.create_device_fleet(DeviceFleetName=unique("x"), OutputConfig=OUTPUT, EnableIotRoleAlias=True)
    assert error_of(caught)[0] == "ValidationException" and "RoleArn" in error_of(caught)[1]


def test_an_existing_alias_refuses_the_fleet_and_nothing_is_created(server: RunningServer) -> None:
    sm, iot = server.client("sagemaker"), server.client("iot")
    role, fleet = make_role(server), unique("taken")
    iot.create_role_alias(roleAlias=f"SageMakerEdge-{fleet}", roleArn=role)
    with pytest.raises(ClientError) as caught:
        sm.create_device_fleet(DeviceFleetName=fleet, RoleArn=role, OutputConfig=OUTPUT)
    assert error_of(caught)[0] == "ResourceInUse"
    with pytest.raises(ClientError) as missing:
        sm.describe_device_fleet(DeviceFleetName=fleet)
    assert error_of(missing) == ("ValidationException", f"No devicefleet with name {fleet} found.")


def test_duplicate_fleet_is_resource_in_use(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), unique("dup")
    sm.create_device_fleet(DeviceFleetName=fleet, OutputConfig=OUTPUT)
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_device_fleet(DeviceFleetName=fleet, OutputConfig=OUTPUT)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"DeviceFleetName": "under_score"}, "deviceFleetName"),
        ({"DeviceFleetName": "-lead"}, "deviceFleetName"),
        ({"DeviceFleetName": "x" * 64}, "deviceFleetName"),
        ({"Description": "semi;colon ok but <tags> are not"}, "description"),
        ({"RoleArn": "arn:aws:iam::123:role/short-account"}, "roleArn"),
        ({"OutputConfig": {"S3OutputLocation": "ftp://bucket/x"}}, "s3OutputLocation"),
        ({"OutputConfig": {"S3OutputLocation": "s3://Not_A_Bucket/x"}}, "valid S3 bucket"),
        (
            {
                "OutputConfig": {
                    **OUTPUT,
                    "PresetDeploymentType": "GreengrassV2Component",
                    "PresetDeploymentConfig": "{",
                }
            },
            "JSON",
        ),
    ],
)
def test_bad_fleet_input_is_a_validation_error(server: RunningServer, changes: dict[str, Any], needle: str) -> None:
    sm = server.client("sagemaker")
    params: dict[str, Any] = {"DeviceFleetName": unique("bad"), "OutputConfig": OUTPUT, **changes}
    with pytest.raises(ClientError) as caught:
        sm.create_device_fleet(**params)
    code, message = error_of(caught)
    assert code == "ValidationException" and needle in message, message


def test_a_role_that_does_not_exist_is_a_validation_error(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    account = server.client("sts").get_caller_identity()["Account"]
    with pytest.raises(ClientError) as caught:
        sm.create_device_fleet(
            DeviceFleetName=unique("f"), RoleArn=f"arn:aws:iam::{account}:role/NoSuchRole", OutputConfig=OUTPUT
        )
    assert error_of(caught)[0] == "ValidationException" and "NoSuchRole" in error_of(caught)[1]


def test_pass_role_is_enforced_with_aws_text(server: RunningServer) -> None:
    role = make_role(server)
    client, user_arn = user_client(
        server,
        "sagemaker",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]},
    )
    fleet = unique("mateo")
    with pytest.raises(ClientError) as caught:
        client.create_device_fleet(DeviceFleetName=fleet, RoleArn=role, OutputConfig=OUTPUT)
    code, message = error_of(caught)
    assert code == "AccessDeniedException"
    assert message.startswith(f"User: {user_arn} is not authorized to perform: iam:PassRole on resource: {role}")
    with pytest.raises(ClientError):
        server.client("sagemaker").describe_device_fleet(DeviceFleetName=fleet)  # nothing was created
    client.create_device_fleet(DeviceFleetName=fleet, OutputConfig=OUTPUT)  # no role, nothing to pass


def test_pass_role_granted_for_sagemaker_lets_the_fleet_through(server: RunningServer) -> None:
    role = make_role(server)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role,
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            },
        ],
    }
    client, _ = user_client(server, "sagemaker", policy)
    fleet = unique("granted")
    client.create_device_fleet(DeviceFleetName=fleet, RoleArn=role, OutputConfig=OUTPUT)
    assert client.describe_device_fleet(DeviceFleetName=fleet)["IotRoleAlias"].endswith(f"SageMakerEdge-{fleet}")


def test_without_permission_describe_is_denied_in_aws_words(server: RunningServer) -> None:
    client, user_arn = user_client(server, "sagemaker")
    with pytest.raises(ClientError) as caught:
        client.describe_device_fleet(DeviceFleetName="any-fleet")
    code, message = error_of(caught)
    assert code == "AccessDeniedException"
    assert f"User: {user_arn} is not authorized to perform: sagemaker:DescribeDeviceFleet on resource: " in message


def test_not_found_texts(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    cases = [
        (lambda: sm.describe_device_fleet(DeviceFleetName="ghost"), "No devicefleet with name ghost"),
        (lambda: sm.get_device_fleet_report(DeviceFleetName="ghost"), "No devicefleet with name ghost"),
        (
            lambda: sm.update_device_fleet(DeviceFleetName="ghost", OutputConfig=OUTPUT),
            "No devicefleet with name ghost",
        ),
        (lambda: sm.delete_device_fleet(DeviceFleetName="ghost"), "DeviceFleet with name ghost"),
    ]
    for call, prefix in cases:
        with pytest.raises(ClientError) as caught:
            call()
        code, message = error_of(caught)
        assert code == "ValidationException" and message.startswith(prefix), message
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_update_changes_description_output_and_repoints_the_alias(server: RunningServer) -> None:
    sm, iot = server.client("sagemaker"), server.client("iot")
    first, second, fleet = make_role(server), make_role(server), unique("upd")
    sm.create_device_fleet(DeviceFleetName=fleet, RoleArn=first, OutputConfig=OUTPUT, Description="before")
    created = sm.describe_device_fleet(DeviceFleetName=fleet)
    new_output = {"S3OutputLocation": "s3://sagemaker-other/out", "KmsKeyId": "alias/edge"}
    sm.update_device_fleet(DeviceFleetName=fleet, RoleArn=second, OutputConfig=new_output, Description="after")
    updated = sm.describe_device_fleet(DeviceFleetName=fleet)
    assert updated["Description"] == "after" and updated["OutputConfig"] == new_output and updated["RoleArn"] == second
    assert updated["LastModifiedTime"] > created["LastModifiedTime"]
    assert iot.describe_role_alias(roleAlias=f"SageMakerEdge-{fleet}")["roleAliasDescription"]["roleArn"] == second


def test_update_can_enable_the_alias_later(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), unique("later")
    role = make_role(server)
    sm.create_device_fleet(DeviceFleetName=fleet, RoleArn=role, OutputConfig=OUTPUT, EnableIotRoleAlias=False)
    sm.update_device_fleet(DeviceFleetName=fleet, OutputConfig=OUTPUT, EnableIotRoleAlias=True)
    assert sm.describe_device_fleet(DeviceFleetName=fleet)["IotRoleAlias"].endswith(f"SageMakerEdge-{fleet}")


def test_delete_is_refused_while_devices_are_registered_and_removes_the_alias(server: RunningServer) -> None:
    sm, iot = server.client("sagemaker"), server.client("iot")
    fleet = unique("del")
    sm.create_device_fleet(DeviceFleetName=fleet, RoleArn=make_role(server), OutputConfig=OUTPUT)
    device = unique("dev")
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": device}])
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.delete_device_fleet(DeviceFleetName=fleet)
    sm.describe_device_fleet(DeviceFleetName=fleet)  # still there, alias too
    iot.describe_role_alias(roleAlias=f"SageMakerEdge-{fleet}")
    sm.deregister_devices(DeviceFleetName=fleet, DeviceNames=[device])
    sm.delete_device_fleet(DeviceFleetName=fleet)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_role_alias(roleAlias=f"SageMakerEdge-{fleet}")
    with pytest.raises(ClientError):
        sm.describe_device_fleet(DeviceFleetName=fleet)


def test_list_fleets_filters_sorts_and_paginates(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    tag = secrets.token_hex(3)
    names = [f"lst{tag}-{i}" for i in range(5)]
    for name in names:
        sm.create_device_fleet(DeviceFleetName=name, OutputConfig=OUTPUT)
    newest_first = sm.list_device_fleets(NameContains=f"lst{tag}")["DeviceFleetSummaries"]
    assert [s["DeviceFleetName"] for s in newest_first] == names[::-1]
    pages = sm.get_paginator("list_device_fleets").paginate(
        NameContains=f"lst{tag}", SortBy="NAME", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    seen = [[s["DeviceFleetName"] for s in page["DeviceFleetSummaries"]] for page in pages]
    assert seen == [names[0:2], names[2:4], names[4:5]]
    by_time = sm.get_paginator("list_device_fleets").paginate(
        NameContains=f"lst{tag}", SortBy="CREATION_TIME", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    assert [s["DeviceFleetName"] for page in by_time for s in page["DeviceFleetSummaries"]] == names
    middle = newest_first[2]["CreationTime"]
    after = sm.list_device_fleets(NameContains=f"lst{tag}", CreationTimeAfter=middle)["DeviceFleetSummaries"]
    assert {s["DeviceFleetName"] for s in after} == set(names[3:])
    token = sm.list_device_fleets(NameContains=f"lst{tag}", MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as caught:
        sm.list_device_fleets(NameContains=f"lst{tag}", SortBy="NAME", NextToken=token)
    assert error_of(caught)[0] == "ValidationException"
    with pytest.raises(ClientError) as garbage:
        sm.list_device_fleets(NextToken="not-a-token!")
    assert error_of(garbage)[0] == "ValidationException"


def test_fleet_report_counts_registered_devices(server: RunningServer) -> None:
    sm, fleet = server.client("sagemaker"), unique("rep")
    sm.create_device_fleet(DeviceFleetName=fleet, OutputConfig=OUTPUT, Description="report me")
    sm.register_devices(DeviceFleetName=fleet, Devices=[{"DeviceName": unique("r")} for _ in range(3)])
    report = sm.get_device_fleet_report(DeviceFleetName=fleet)
    assert report["DeviceStats"] == {"ConnectedDeviceCount": 0, "RegisteredDeviceCount": 3}
    assert report["DeviceFleetName"] == fleet and report["Description"] == "report me"
    assert report["AgentVersions"] == [] and report["ModelStats"] == []


def test_aws_cli_creates_and_describes_a_fleet(server: RunningServer) -> None:
    fleet = unique("cli")
    base = ["aws", "sagemaker"]
    create = [*base, "create-device-fleet", "--device-fleet-name", fleet, "--output-config", json.dumps(OUTPUT)]
    subprocess.run(create, env=server.env(), check=True, capture_output=True, timeout=60)
    shown = subprocess.run(
        [*base, "describe-device-fleet", "--device-fleet-name", fleet],
        env=server.env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(shown.stdout)["DeviceFleetName"] == fleet
    missing = subprocess.run(
        [*base, "describe-device-fleet", "--device-fleet-name", "ghost-cli"],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "No devicefleet with name ghost-cli" in missing.stderr


def test_edge_packaging_jobs_are_not_offered(server: RunningServer) -> None:
    sm = server.client("sagemaker")
    with pytest.raises(ClientError) as caught:
        sm.create_edge_packaging_job(
            EdgePackagingJobName="job",
            CompilationJobName="compile",
            ModelName="model",
            ModelVersion="1",
            RoleArn=make_role(server),
            OutputConfig={"S3OutputLocation": "s3://sagemaker-b/x"},
        )
    code, message = error_of(caught)
    assert code == "ValidationException" and "does not offer model compilation" in message
    assert sm.list_edge_packaging_jobs()["EdgePackagingJobSummaries"] == []
