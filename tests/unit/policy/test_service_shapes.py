"""Policy shapes the services rely on: PassRole, IoT device policies, credentials-provider sessions."""

from __future__ import annotations

from typing import Any

import pytest

from edgeward.policy import (
    Caller,
    CallerKind,
    ConditionContext,
    Request,
    evaluate,
)

from .helpers import (
    ACCOUNT,
    BUCKET,
    DEVICE,
    OWN_FLEET,
    ROLE_ARN,
    ROLE_ID,
    SESSION,
    SESSION_ARN,
    USER,
    USER_ARN,
    USER_ID,
    allow,
    identity,
    run,
    s3,
)

PASS_ROLE = identity(
    allow(
        ["iam:GetRole", "iam:PassRole"],
        "arn:aws:iam::*:role/*SageMaker*",
        Condition={
            "StringEqualsIfExists": {"iam:PassedToService": ["iot.amazonaws.com", "credentials.iot.amazonaws.com"]}
        },
    )
)


@pytest.mark.parametrize(
    ("context", "allowed"),
    [
        ({"iam:PassedToService": "credentials.iot.amazonaws.com"}, True),
        ({"iam:PassedToService": "iot.amazonaws.com"}, True),
        ({"iam:PassedToService": "sagemaker.amazonaws.com"}, False),
        ({}, True),
    ],
)
def test_pass_role_with_passed_to_service(context: dict[str, Any], allowed: bool) -> None:
    assert run(USER, "iam:PassRole", ROLE_ARN, [PASS_ROLE], context=context).allowed is allowed


def test_iot_policy_with_thing_variable() -> None:
    alias = f"arn:aws:iot:us-east-1:{ACCOUNT}:rolealias/SageMakerEdge-fleet-1"
    device_policy = identity(
        allow("iot:AssumeRoleWithCertificate", alias),
        allow("iot:Connect", f"arn:aws:iot:us-east-1:{ACCOUNT}:client/${{iot:Connection.Thing.ThingName}}"),
    )
    thing = Caller(CallerKind.USER, f"arn:aws:iot:us-east-1:{ACCOUNT}:cert/abc", ACCOUNT)
    context = {"iot:Connection.Thing.ThingName": "device-1"}
    assert run(thing, "iot:AssumeRoleWithCertificate", alias, [device_policy]).allowed
    client = f"arn:aws:iot:us-east-1:{ACCOUNT}:client/device-1"
    assert run(thing, "iot:Connect", client, [device_policy], context=context).allowed
    assert not run(thing, "iot:Connect", client, [device_policy]).allowed


def test_credentials_provider_session_keys() -> None:
    policy = identity(
        allow("s3:PutObject", f"{BUCKET}/${{credentials-iot:ThingName}}/*"),
    )
    context = {"credentials-iot:ThingName": "device-1", "credentials-iot:AwsCertificateId": "abc"}
    assert s3(SESSION, policies=[policy], context=context).eval_decision == "implicitDeny"  # GetObject
    put = run(SESSION, "s3:PutObject", f"{BUCKET}/device-1/capture.jpg", [policy], context=context)
    assert put.allowed


def test_context_helpers_describe_the_caller() -> None:
    from datetime import UTC, datetime

    from edgeward.core.principal import Principal, PrincipalKind
    from edgeward.policy import principal_keys, request_keys

    user = Principal(PrincipalKind.USER, ACCOUNT, USER_ARN, USER_ID, "mateojackson", "AKIAX", tags={"team": "edge"})
    keys = principal_keys(user)
    assert keys["aws:username"] == "mateojackson"
    assert keys["aws:userid"] == USER_ID
    assert keys["aws:PrincipalType"] == "User"
    assert keys["aws:PrincipalTag/team"] == "edge"
    session = Principal(PrincipalKind.ASSUMED_ROLE, ACCOUNT, SESSION_ARN, f"{ROLE_ID}:device-1", "r", "ASIAX")
    session_keys = principal_keys(session, parent_arn=ROLE_ARN)
    assert "aws:username" not in session_keys
    assert session_keys["aws:PrincipalArn"] == ROLE_ARN
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    request = request_keys(now=now, secure_transport=True, source_ip="10.0.0.1")
    assert request == {
        "aws:CurrentTime": "2024-05-01T12:00:00Z",
        "aws:EpochTime": "1714564800",
        "aws:SecureTransport": "true",
        "aws:SourceIp": "10.0.0.1",
    }
    team_only = identity(allow("s3:*", f"{BUCKET}/${{aws:PrincipalTag/team}}/*"))
    decision = run(USER, "s3:GetObject", f"{BUCKET}/edge/x", [team_only], context={**keys, **request})
    assert decision.allowed


def test_condition_context_is_reusable_across_evaluations() -> None:

    context = ConditionContext({"aws:username": "mateojackson"})
    first = evaluate(Request(USER, "sagemaker:DescribeDevice", DEVICE, context), [OWN_FLEET])
    assert not first.allowed
    assert "aws:username" in context and len(context) == 1 and list(context) == ["aws:username"]
