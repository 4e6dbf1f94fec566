"""AccessDenied wording (spec 4.3): every implicit and explicit phrasing."""

from __future__ import annotations

import pytest

from edgeward.policy import (
    Decision,
    denial_message,
)

from .helpers import (
    ALLOW_ALL,
    DENY_SAGEMAKER,
    DENY_TRUST,
    DESCRIBE,
    DEVICE,
    IOT_TRUST,
    OTHER_ACCOUNT,
    ROLE_ARN,
    SESSION,
    SESSION_ARN,
    USER,
    USER_ARN,
    allow,
    assume,
    deny,
    identity,
    resource_policy,
    run,
)

PREFIX = f"User: {USER_ARN} is not authorized to perform: {DESCRIBE} on resource: {DEVICE}"
MESSAGES: list[tuple[str, Decision, str]] = [
    (
        "implicit identity",
        run(USER),
        f"{PREFIX} because no identity-based policy allows the {DESCRIBE} action",
    ),
    (
        "implicit boundary",
        run(USER, policies=[ALLOW_ALL], boundary=[identity(allow("iot:*"))]),
        f"{PREFIX} because no permissions boundary allows the {DESCRIBE} action",
    ),
    (
        "implicit session",
        run(USER, policies=[ALLOW_ALL], session=[identity(allow("iot:*"))]),
        f"{PREFIX} because no session policy allows the {DESCRIBE} action",
    ),
    (
        "implicit resource",
        run(USER, policies=[ALLOW_ALL], resource_account=OTHER_ACCOUNT),
        f"{PREFIX} because no resource-based policy allows the {DESCRIBE} action",
    ),
    (
        "explicit identity",
        run(USER, policies=[DENY_SAGEMAKER]),
        f"{PREFIX} with an explicit deny in an identity-based policy",
    ),
    (
        "explicit boundary",
        run(USER, policies=[ALLOW_ALL], boundary=[DENY_SAGEMAKER]),
        f"{PREFIX} with an explicit deny in a permissions boundary",
    ),
    (
        "explicit session",
        run(USER, policies=[ALLOW_ALL], session=[DENY_SAGEMAKER]),
        f"{PREFIX} with an explicit deny in a sessions policy",
    ),
    (
        "explicit resource",
        run(USER, policies=[ALLOW_ALL], resource_policy=resource_policy(deny("*", "*", Principal="*"))),
        f"{PREFIX} with an explicit deny in a resource-based policy",
    ),
]


@pytest.mark.parametrize(("name", "decision", "message"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_denial_messages(name: str, decision: Decision, message: str) -> None:
    assert denial_message(USER_ARN, DESCRIBE, DEVICE, decision) == message


def test_trust_denial_messages() -> None:
    role_prefix = f"User: {USER_ARN} is not authorized to perform: sts:AssumeRole on resource: {ROLE_ARN}"
    implicit = denial_message(USER_ARN, "sts:AssumeRole", ROLE_ARN, assume(USER, IOT_TRUST))
    assert implicit == f"{role_prefix} because no role trust policy allows the sts:AssumeRole action"
    explicit = denial_message(USER_ARN, "sts:AssumeRole", ROLE_ARN, assume(USER, DENY_TRUST))
    assert explicit == f"{role_prefix} with an explicit deny in the role trust policy"


def test_denial_without_resource_and_for_sessions() -> None:
    decision = run(SESSION, "codecommit:ListRepositories", None)
    assert denial_message(SESSION_ARN, "codecommit:ListRepositories", None, decision) == (
        f"User: {SESSION_ARN} is not authorized to perform: codecommit:ListRepositories "
        "because no identity-based policy allows the codecommit:ListRepositories action"
    )


def test_mateojackson_example_from_the_seed() -> None:
    decision = run(USER, policies=[identity(allow("sagemaker:List*"))])
    assert denial_message(USER_ARN, DESCRIBE, DEVICE, decision) == (
        "User: arn:aws:iam::123456789012:user/mateojackson is not authorized to perform: "
        "sagemaker:DescribeDevice on resource: arn:aws:sagemaker:us-east-1:123456789012:"
        "device-fleet/fleet-1/device/device-1 because no identity-based policy allows the "
        "sagemaker:DescribeDevice action"
    )


def test_no_denial_message_for_an_allowed_request() -> None:
    with pytest.raises(ValueError):
        denial_message(USER_ARN, DESCRIBE, DEVICE, run(USER, policies=[ALLOW_ALL]))
