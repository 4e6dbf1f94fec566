"""The policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysFor*Policy) through boto3
and the AWS CLI: AWS's result shape, and decisions equal to the engine's."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from edgeward.policy import Caller, CallerKind, PolicyKind, Request, evaluate, parse_policy
from tests.serverfixtures import RunningServer

AWS_POLICY = "arn:aws:iam::aws:policy/"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


@pytest.fixture(scope="module")
def account(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def test_custom_policy_results_and_positions(server: RunningServer) -> None:
    iam = server.client("iam")
    policy = doc(allow("s3:GetObject", "arn:aws:s3:::bucket/*"), deny("s3:DeleteObject"))
    results = iam.simulate_custom_policy(
        PolicyInputList=[policy], ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"]
    )["EvaluationResults"]
    by_action = {r["EvalActionName"]: r for r in results}
    assert [r["EvalActionName"] for r in results] == ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"]
    assert by_action["s3:GetObject"]["EvalResourceName"] == "*"
    assert by_action["s3:GetObject"]["EvalDecision"] == "implicitDeny"  # "*" is not arn:aws:s3:::bucket/*
    deleted = by_action["s3:DeleteObject"]
    assert deleted["EvalDecision"] == "explicitDeny"
    second_statement_start = policy.index("},") + 2
    assert deleted["MatchedStatements"] == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "IAM Policy",
            "StartPosition": {"Line": 1, "Column": second_statement_start + 1},
            "EndPosition": {"Line": 1, "Column": len(policy) - 1},
        }
    ]
    assert by_action["s3:PutObject"] == {
        "EvalActionName": "s3:PutObject",
        "EvalResourceName": "*",
        "EvalDecision": "implicitDeny",
        "MatchedStatements": [],
        "MissingContextValues": [],
    }


def test_resources_context_and_missing_values(server: RunningServer) -> None:
    iam = server.client("iam")
    policy = doc(
        allow("s3:ListBucket", "arn:aws:s3:::b", Condition={"StringLike": {"s3:prefix": "home/${aws:username}/*"}})
    )
    resources = ["arn:aws:s3:::b", "arn:aws:s3:::other"]
    results = iam.simulate_custom_policy(
        PolicyInputList=[policy],
        ActionNames=["s3:ListBucket"],
        ResourceArns=resources,
        ContextEntries=[
            {"ContextKeyName": "s3:prefix", "ContextKeyValues": ["home/ann/docs"], "ContextKeyType": "string"},
            {"ContextKeyName": "aws:username", "ContextKeyValues": ["ann"], "ContextKeyType": "string"},
        ],
    )["EvaluationResults"]
    assert [(r["EvalResourceName"], r["EvalDecision"]) for r in results] == [
        ("arn:aws:s3:::b", "allowed"),
        ("arn:aws:s3:::other", "implicitDeny"),
    ]
    specific = results[0]["ResourceSpecificResults"]
    assert specific[0]["EvalResourceName"] == "arn:aws:s3:::b" and specific[0]["EvalResourceDecision"] == "allowed"
    missing = iam.simulate_custom_policy(
        PolicyInputList=[policy], ActionNames=["s3:ListBucket"], ResourceArns=["arn:aws:s3:::b"]
    )["EvaluationResults"][0]
    assert missing["EvalDecision"] == "implicitDeny"
    assert missing["MissingContextValues"] == ["aws:username", "s3:prefix"]


def test_boundary_detail_and_pagination(server: RunningServer) -> None:
    iam = server.client("iam")
    result = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("*"))],
        PermissionsBoundaryPolicyInputList=[doc(allow("s3:*"))],
        ActionNames=["s3:GetObject", "iam:ListUsers"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in result] == ["allowed", "implicitDeny"]
    assert result[0]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert result[1]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    sources = {m["SourcePolicyId"] for m in result[0]["MatchedStatements"]}
    assert sources == {"PolicyInputList.1", "PermissionsBoundaryPolicyInputList.1"}
    actions = [f"s3:Get{i}" for i in range(5)]
    first = iam.simulate_custom_policy(PolicyInputList=[doc(allow("*"))], ActionNames=actions, MaxItems=2)
    assert first["IsTruncated"] and len(first["EvaluationResults"]) == 2
    pages = list(
        iam.get_paginator("simulate_custom_policy").paginate(
            PolicyInputList=[doc(allow("*"))], ActionNames=actions, PaginationConfig={"PageSize": 2}
        )
    )
    assert [r["EvalActionName"] for p in pages for r in p["EvaluationResults"]] == actions


def test_resource_policy_and_caller(server: RunningServer, account: str) -> None:
    iam = server.client("iam")
    caller = f"arn:aws:iam::{account}:user/reader"
    bucket_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject", "Resource": "*"}],
        }
    )
    result = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("s3:PutObject"))],
        ActionNames=["s3:GetObject"],
        ResourceArns=["arn:aws:s3:::shared/key"],
        ResourcePolicy=bucket_policy,
        CallerArn=caller,
    )["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}
    assert result["MatchedStatements"][0]["SourcePolicyId"] == "ResourcePolicy"
    other = f"arn:aws:iam::{account}:user/someone-else"
    refused = iam.simulate_custom_policy(
        PolicyInputList=[doc(allow("s3:PutObject"))],
        ActionNames=["s3:GetObject"],
        ResourcePolicy=bucket_policy,
        CallerArn=other,
    )["EvaluationResults"][0]
    assert refused["EvalDecision"] == "implicitDeny"


def test_principal_policy_for_users_groups_and_roles(server: RunningServer, account: str) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="sim-user")
    iam.put_user_policy(UserName="sim-user", PolicyName="own", PolicyDocument=doc(allow("s3:GetObject")))
    iam.create_group(GroupName="SimGroup")
    iam.add_user_to_group(GroupName="SimGroup", UserName="sim-user")
    iam.put_group_policy(GroupName="SimGroup", PolicyName="grp", PolicyDocument=doc(deny("s3:DeleteObject")))
    iam.attach_group_policy(GroupName="SimGroup", PolicyArn=f"{AWS_POLICY}AmazonS3FullAccess")
    user_arn = f"arn:aws:iam::{account}:user/sim-user"

    results = iam.simulate_principal_policy(
        PolicySourceArn=user_arn, ActionNames=["s3:GetObject", "s3:DeleteObject", "iam:ListUsers"]
    )["EvaluationResults"]
    get, delete, list_users = results
    assert get["EvalDecision"] == "allowed"
    assert {m["SourcePolicyId"] for m in get["MatchedStatements"]} == {"user_sim-user_own", "AmazonS3FullAccess"}
    assert delete["EvalDecision"] == "explicitDeny"
    assert [m["SourcePolicyId"] for m in delete["MatchedStatements"]] == ["group_SimGroup_grp"]
    assert list_users["EvalDecision"] == "implicitDeny"

    admin = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{account}:user/admin", ActionNames=["iam:ListUsers"]
    )["EvaluationResults"][0]
    assert admin["MatchedStatements"] == [
        {
            "SourcePolicyId": "AdministratorAccess",
            "SourcePolicyType": "IAM Policy",
            "StartPosition": {"Line": 3, "Column": 17},
            "EndPosition": {"Line": 8, "Column": 6},
        }
    ]

    group = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{account}:group/SimGroup", ActionNames=["s3:GetObject", "s3:DeleteObject"]
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in group] == ["allowed", "explicitDeny"]

    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName="SimRole", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="SimRole", PolicyName="r", PolicyDocument=doc(allow("iot:*")))
    iam.put_role_permissions_boundary(RoleName="SimRole", PermissionsBoundary=f"{AWS_POLICY}AmazonS3ReadOnlyAccess")
    role = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{account}:role/SimRole", ActionNames=["iot:CreateThing"]
    )["EvaluationResults"][0]
    assert role["EvalDecision"] == "implicitDeny"
    assert role["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert [m["SourcePolicyId"] for m in role["MatchedStatements"]] == ["role_SimRole_r"]
    replaced = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{account}:role/SimRole",
        ActionNames=["iot:CreateThing"],
        PermissionsBoundaryPolicyInputList=[doc(allow("iot:CreateThing"))],
    )["EvaluationResults"][0]
    assert replaced["EvalDecision"] == "allowed"


def test_principal_policy_inputs_and_exclusions(server: RunningServer, account: str) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="sim-extra")
    iam.put_user_policy(UserName="sim-extra", PolicyName="allow-get", PolicyDocument=doc(allow("s3:GetObject")))
    iam.attach_user_policy(UserName="sim-extra", PolicyArn=f"{AWS_POLICY}AmazonS3ReadOnlyAccess")
    arn = f"arn:aws:iam::{account}:user/sim-extra"
    with_input = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject"], PolicyInputList=[doc(deny("s3:GetObject"))]
    )["EvaluationResults"][0]
    assert with_input["EvalDecision"] == "explicitDeny"
    assert with_input["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    excluded = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject"],
        PolicyExclusionList=[
            {
                "InlinePolicyIdentifier": {
                    "PolicyName": "allow-get",
                    "AttachmentType": "user",
                    "AttachmentName": "sim-extra",
                }
            },
            {"PolicyArn": f"{AWS_POLICY}AmazonS3ReadOnlyAccess"},
        ],
    )["EvaluationResults"][0]
    assert excluded["EvalDecision"] == "implicitDeny"
    by_type = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject"], PolicyExclusionList=[{"PolicyType": "inline"}]
    )["EvaluationResults"][0]
    assert [m["SourcePolicyId"] for m in by_type["MatchedStatements"]] == ["AmazonS3ReadOnlyAccess"]


def test_simulator_errors_and_authorization(server: RunningServer, account: str) -> None:
    iam = server.client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/ghost", ActionNames=["s3:Get"])
    assert caught.value.response["Error"]["Message"] == "The user with name ghost cannot be found."
    with pytest.raises(iam.exceptions.InvalidInputException) as invalid:
        iam.simulate_custom_policy(PolicyInputList=["{nope"], ActionNames=["s3:GetObject"])
    assert invalid.value.response["Error"]["Message"] == "Syntax errors in policy."
    iam.create_user(UserName="sim-nobody")
    key = iam.create_access_key(UserName="sim-nobody")["AccessKey"]
    nobody = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as denied:
        nobody.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/admin", ActionNames=["s3:Get"])
    assert denied.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{account}:user/sim-nobody is not authorized to perform: iam:SimulatePrincipalPolicy "
        f"on resource: arn:aws:iam::{account}:user/admin because no identity-based policy allows the "
        "iam:SimulatePrincipalPolicy action"
    )


def test_context_keys(server: RunningServer, account: str) -> None:
    iam = server.client("iam")
    policy = doc(
        allow("s3:ListBucket", "arn:aws:s3:::${aws:username}", Condition={"StringLike": {"s3:prefix": "home/*"}}),
        allow("ec2:RunInstances", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    )
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[policy])["ContextKeyNames"]
    assert sorted(k.lower() for k in keys) == ["aws:multifactorauthpresent", "aws:username", "s3:prefix"]
    iam.create_user(UserName="keyed")
    iam.put_user_policy(UserName="keyed", PolicyName="p", PolicyDocument=policy)
    principal_keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/keyed")
    assert sorted(k.lower() for k in principal_keys["ContextKeyNames"]) == sorted(k.lower() for k in keys)


CASES: list[tuple[list[str], str, str, dict[str, str]]] = [
    ([doc(allow("s3:*"))], "s3:GetObject", "arn:aws:s3:::b/k", {}),
    ([doc(allow("s3:*"), deny("s3:Get*", "arn:aws:s3:::b/*"))], "s3:GetObject", "arn:aws:s3:::b/k", {}),
    ([doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})], "iam:ListUsers", "*", {}),
    ([doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})], "sagemaker:DescribeDevice", "*", {}),
    (
        [doc(allow("iam:PassRole", Condition={"StringEqualsIfExists": {"iam:PassedToService": "iot.amazonaws.com"}}))],
        "iam:PassRole",
        "arn:aws:iam::123456789012:role/R",
        {"iam:PassedToService": "sagemaker.amazonaws.com"},
    ),
    (
        [doc(allow("iot:Connect", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))],
        "iot:Connect",
        "*",
        {"aws:SourceIp": "10.1.2.3"},
    ),
    ([doc(allow("ec2:*")), doc(deny("ec2:Terminate*"))], "ec2:TerminateInstances", "*", {}),
    ([doc(allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*"))], "s3:GetObject", "arn:aws:s3:::b/ann/x", {}),
]


@pytest.mark.parametrize(("policies", "action", "resource", "context"), CASES)
def test_simulation_matches_the_engine(
    server: RunningServer, policies: list[str], action: str, resource: str, context: dict[str, str]
) -> None:
    iam = server.client("iam")
    entries = [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in context.items()]
    simulated = iam.simulate_custom_policy(
        PolicyInputList=policies, ActionNames=[action], ResourceArns=[resource], ContextEntries=entries
    )["EvaluationResults"][0]
    caller = Caller(CallerKind.USER, "arn:aws:iam::123456789012:user/simulated", "123456789012")
    expected = evaluate(
        Request(caller, action, resource, context), [parse_policy(p, PolicyKind.IDENTITY) for p in policies]
    )
    assert simulated["EvalDecision"] == expected.eval_decision
    assert simulated["MissingContextValues"] == list(expected.missing_context_keys)


def test_aws_cli_simulate_custom_policy(server: RunningServer) -> None:
    out = subprocess.run(
        [
            "aws",
            "iam",
            "simulate-custom-policy",
            "--policy-input-list",
            doc(allow("s3:GetObject")),
            "--action-names",
            "s3:GetObject",
            "s3:PutObject",
            "--output",
            "json",
        ],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    decisions = [r["EvalDecision"] for r in json.loads(out.stdout)["EvaluationResults"]]
    assert decisions == ["allowed", "implicitDeny"]
