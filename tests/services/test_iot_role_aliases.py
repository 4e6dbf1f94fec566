"""IoT role aliases through boto3 and the AWS CLI: the seed's alias, the duration rules against the role's
MaxSessionDuration, iam:PassRole, updates, listing and deletion, and the stored ARN.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer

TRUST = json.dumps(
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


def make_role(server: RunningServer, name: str, max_session: int = 3600) -> str:
    iam = server.client("iam")
    return str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, MaxSessionDuration=max_session)["Role"]["Arn"]
    )


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def eventually(call: Callable[[], Any], attempts: int = 50) -> Any:
    """IAM policy changes reach every node's policy cache within a second; retry the denied call until then."""
    for _ in range(attempts - 1):
        try:
            return call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "AccessDeniedException":
                raise
            time.sleep(0.1)
    return call()


def test_seed_alias_with_the_aws_cli(server: RunningServer) -> None:
    role_arn = make_role(server, "SageMakerEdgeRole")
    out = subprocess.run(
        [
            "aws", "iot", "create-role-alias", "--role-alias", "SageMakerEdge-cli-fleet", "--role-arn", role_arn,
            "--credential-duration-seconds", "3600",
        ],
        capture_output=True, text=True, env=server.env(), timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-800:]
    created = json.loads(out.stdout)
    account = server.client("sts").get_caller_identity()["Account"]
    assert created == {
        "roleAlias": "SageMakerEdge-cli-fleet",
        "roleAliasArn": f"arn:aws:iot:us-east-1:{account}:rolealias/SageMakerEdge-cli-fleet",
    }
    described = server.client("iot").describe_role_alias(roleAlias="SageMakerEdge-cli-fleet")["roleAliasDescription"]
    assert described["roleAliasArn"] == created["roleAliasArn"] and described["roleArn"] == role_arn
    assert described["owner"] == account and described["credentialDurationSeconds"] == 3600
    assert described["creationDate"] == described["lastModifiedDate"]


def test_defaults_duplicates_and_missing(server: RunningServer) -> None:
    iot = server.client("iot")
    role_arn = make_role(server, "DefaultsRole")
    iot.create_role_alias(roleAlias="defaults", roleArn=role_arn)
    assert iot.describe_role_alias(roleAlias="defaults")["roleAliasDescription"]["credentialDurationSeconds"] == 3600
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as caught:
        iot.create_role_alias(roleAlias="defaults", roleArn=role_arn)
    assert error_of(caught)[2] == 409 and caught.value.response["resourceId"] == "defaults"
    call: Callable[[], Any]
    for call in (
        lambda: iot.describe_role_alias(roleAlias="missing"),
        lambda: iot.update_role_alias(roleAlias="missing", credentialDurationSeconds=900),
        lambda: iot.delete_role_alias(roleAlias="missing"),
    ):
        with pytest.raises(iot.exceptions.ResourceNotFoundException) as missing:
            call()
        assert error_of(missing) == ("ResourceNotFoundException", "Role alias missing does not exist.", 404)


def test_duration_may_not_exceed_the_roles_max_session_duration(server: RunningServer) -> None:
    iot = server.client("iot")
    short = make_role(server, "ShortRole")
    long = make_role(server, "LongRole", max_session=43200)
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.create_role_alias(roleAlias="too-long", roleArn=short, credentialDurationSeconds=7200)
    assert error_of(caught) == (
        "InvalidRequestException",
        f"credentialDurationSeconds (7200) exceeds the MaxSessionDuration of the role {short} (3600 seconds).",
        400,
    )
    iot.create_role_alias(roleAlias="long", roleArn=long, credentialDurationSeconds=43200)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_role_alias(roleAlias="long", roleArn=short)  # keeps 43200, which the short role refuses
    iot.update_role_alias(roleAlias="long", roleArn=short, credentialDurationSeconds=900)
    described = iot.describe_role_alias(roleAlias="long")["roleAliasDescription"]
    assert (described["roleArn"], described["credentialDurationSeconds"]) == (short, 900)
    assert described["lastModifiedDate"] >= described["creationDate"]
    unchecked = server.client("iot", parameter_validation=False)  # the server's own range check
    with pytest.raises(ClientError) as out_of_range:
        unchecked.create_role_alias(roleAlias="range", roleArn=long, credentialDurationSeconds=899)
    assert error_of(out_of_range)[2] == 400


def test_the_role_must_exist_in_the_account(server: RunningServer) -> None:
    iot = server.client("iot")
    account = server.client("sts").get_caller_identity()["Account"]
    for role_arn in (f"arn:aws:iam::{account}:role/NoSuchRole", "definitely-not-a-role-arn"):
        with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
            iot.create_role_alias(roleAlias="orphan", roleArn=role_arn)
        assert "does not exist" in error_of(caught)[1]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_role_alias(roleAlias="orphan")


def test_list_update_and_delete(server: RunningServer) -> None:
    iot = server.client("iot")
    role_arn = make_role(server, "ListRole")
    names = [f"list-{n}" for n in range(5)]
    for name in names:
        iot.create_role_alias(roleAlias=name, roleArn=role_arn, credentialDurationSeconds=900)
    first = iot.list_role_aliases(pageSize=2)
    assert len(first["roleAliases"]) == 2 and first["nextMarker"]
    collected: list[str] = []
    for page in iot.get_paginator("list_role_aliases").paginate(PaginationConfig={"PageSize": 2}):
        collected += page["roleAliases"]
    assert set(names) <= set(collected) and collected == sorted(collected) and len(collected) == len(set(collected))
    updated = iot.update_role_alias(roleAlias="list-0", credentialDurationSeconds=1800)
    assert updated["roleAlias"] == "list-0" and updated["roleAliasArn"].endswith(":rolealias/list-0")
    assert iot.describe_role_alias(roleAlias="list-0")["roleAliasDescription"]["credentialDurationSeconds"] == 1800
    iot.delete_role_alias(roleAlias="list-0")
    assert "list-0" not in iot.list_role_aliases()["roleAliases"]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_role_alias(roleAlias="list-0")


def test_the_arn_keeps_the_region_the_client_used(server: RunningServer) -> None:
    role_arn = make_role(server, "RegionRole")
    created = server.client("iot", region="eu-west-1").create_role_alias(roleAlias="regional", roleArn=role_arn)
    assert ":iot:eu-west-1:" in created["roleAliasArn"]
    described = server.client("iot").describe_role_alias(roleAlias="regional")["roleAliasDescription"]
    assert described["roleAliasArn"] == created["roleAliasArn"]


def test_pass_role_is_required(server: RunningServer) -> None:
    iam = server.client("iam")
    role_arn = make_role(server, "PassedRole")
    user_arn = iam.create_user(UserName="alias-maker")["User"]["Arn"]
    iot_only = {"Effect": "Allow", "Action": "iot:*RoleAlias", "Resource": "*"}
    iam.put_user_policy(UserName="alias-maker", PolicyName="iot", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [iot_only]}))  # fmt: skip
    key = iam.create_access_key(UserName="alias-maker")["AccessKey"]
    iot = server.client("iot", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        iot.create_role_alias(roleAlias="passed", roleArn=role_arn)
    assert error_of(caught) == (
        "AccessDeniedException",
        f"User: {user_arn} is not authorized to perform: iam:PassRole on resource: {role_arn} "
        "because no identity-based policy allows the iam:PassRole action",
        403,
    )
    with pytest.raises(server.client("iot").exceptions.ResourceNotFoundException):
        server.client("iot").describe_role_alias(roleAlias="passed")
    # AWS's managed policies pass IoT roles to iot.amazonaws.com: that grant is accepted too
    pass_to_iot = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": role_arn,
        "Condition": {"StringEquals": {"iam:PassedToService": "iot.amazonaws.com"}},
    }
    iam.put_user_policy(UserName="alias-maker", PolicyName="iot", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [iot_only, pass_to_iot]}))  # fmt: skip
    eventually(lambda: iot.create_role_alias(roleAlias="passed", roleArn=role_arn))
    assert iot.describe_role_alias(roleAlias="passed")["roleAliasDescription"]["roleArn"] == role_arn
    other_role = make_role(server, "NotPassedRole")
    with pytest.raises(ClientError) as update_denied:
        iot.update_role_alias(roleAlias="passed", roleArn=other_role)
    assert error_of(update_denied)[0] == "AccessDeniedException" and "iam:PassRole" in error_of(update_denied)[1]
    iot.update_role_alias(roleAlias="passed", credentialDurationSeconds=900)  # no new role: no PassRole needed


def test_describe_is_authorized_on_the_alias(server: RunningServer) -> None:
    iam = server.client("iam")
    role_arn = make_role(server, "DescribedRole")
    server.client("iot").create_role_alias(roleAlias="described", roleArn=role_arn)
    user_arn = iam.create_user(UserName="alias-reader")["User"]["Arn"]
    key = iam.create_access_key(UserName="alias-reader")["AccessKey"]
    iot = server.client("iot", key["AccessKeyId"], key["SecretAccessKey"])
    alias_arn = server.client("iot").describe_role_alias(roleAlias="described")["roleAliasDescription"]["roleAliasArn"]
    with pytest.raises(ClientError) as caught:
        iot.describe_role_alias(roleAlias="described")
    assert error_of(caught) == (
        "AccessDeniedException",
        f"User: {user_arn} is not authorized to perform: iot:DescribeRoleAlias on resource: {alias_arn} "
        "because no identity-based policy allows the iot:DescribeRoleAlias action",
        403,
    )
