"""Golden cases of the IAM evaluation logic (spec 4.4): identity policies, boundaries, sessions, root."""

from __future__ import annotations

import pytest

from edgeward.policy import (
    Caller,
    CallerKind,
    Decision,
    Effect,
    PolicyType,
)

from .helpers import (
    ACCOUNT,
    ALLOW_ALL,
    ALLOW_SAGEMAKER,
    BOUNDARY,
    DENIES_EVERYONE,
    DENY_SAGEMAKER,
    DESCRIBE,
    DEVICE,
    FLEET,
    IDENTITY,
    NAMES_ACCOUNT,
    NAMES_ROLE,
    NAMES_ROLE_ID,
    OTHER_ACCOUNT,
    OWN_FLEET,
    RESOURCE,
    ROLE_ARN,
    ROLE_ID,
    ROOT,
    S3_READ,
    SESSION,
    SESSION_ARN,
    SESSION_POLICY,
    USER,
    allow,
    deny,
    identity,
    outcome,
    run,
    s3,
)

IDENTITY_CASES: list[tuple[str, Decision, tuple[str, PolicyType | None]]] = [
    ("no policy: implicit deny", run(USER), ("implicitDeny", IDENTITY)),
    ("allow", run(USER, policies=[ALLOW_SAGEMAKER]), ("allowed", IDENTITY)),
    ("allow other service", run(USER, policies=[identity(allow("iot:*"))]), ("implicitDeny", IDENTITY)),
    (
        "deny wins in one policy",
        run(USER, policies=[identity(allow(), deny(DESCRIBE))]),
        ("explicitDeny", IDENTITY),
    ),
    (
        "deny wins across policies",
        run(USER, policies=[ALLOW_ALL, DENY_SAGEMAKER]),
        ("explicitDeny", IDENTITY),
    ),
    (
        "deny elsewhere irrelevant",
        run(USER, policies=[ALLOW_ALL, identity(deny("iot:*"))]),
        ("allowed", IDENTITY),
    ),
    (
        "action case-insensitive",
        run(USER, "SageMaker:describedevice", policies=[identity(allow("SAGEMAKER:DescribeDevice"))]),
        ("allowed", IDENTITY),
    ),
    ("action wildcard", run(USER, policies=[identity(allow("sagemaker:Describe*"))]), ("allowed", IDENTITY)),
    (
        "action question mark",
        run(USER, policies=[identity(allow("sagemaker:DescribeDevic?"))]),
        ("allowed", IDENTITY),
    ),
    (
        "resource case-sensitive",
        run(USER, policies=[identity(allow("sagemaker:*", DEVICE.replace("device-1", "Device-1")))]),
        ("implicitDeny", IDENTITY),
    ),
    (
        "resource wildcard",
        run(USER, policies=[identity(allow("sagemaker:*", f"{FLEET}/*"))]),
        ("allowed", IDENTITY),
    ),
    (
        "not action allow grants complement",
        run(USER, policies=[identity(allow(None, NotAction="iam:*"))]),
        ("allowed", IDENTITY),
    ),
    (
        "not action allow does not deny",
        run(USER, "iam:CreateUser", "*", [identity(allow(None, NotAction="iam:*"))]),
        ("implicitDeny", IDENTITY),
    ),
    (
        "not resource allow complement",
        run(USER, policies=[identity(allow("sagemaker:*", None, NotResource=f"{FLEET}/device/other"))]),
        ("allowed", IDENTITY),
    ),
    (
        "not resource allow excludes",
        run(USER, policies=[identity(allow("sagemaker:*", None, NotResource=f"{FLEET}/*"))]),
        ("implicitDeny", IDENTITY),
    ),
    (
        "deny not action",
        run(USER, "iam:CreateUser", "*", [ALLOW_ALL, identity(deny(None, NotAction="sagemaker:*"))]),
        ("explicitDeny", IDENTITY),
    ),
    (
        "deny not action spares",
        run(USER, policies=[ALLOW_ALL, identity(deny(None, NotAction="sagemaker:*"))]),
        ("allowed", IDENTITY),
    ),
    (
        "variable resource",
        run(
            USER,
            resource=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/mateojackson/device/d",
            policies=[OWN_FLEET],
            context={"aws:username": "mateojackson"},
        ),
        ("allowed", IDENTITY),
    ),
    (
        "variable resource other",
        run(
            USER,
            resource=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/eve/device/d",
            policies=[OWN_FLEET],
            context={"aws:username": "mateojackson"},
        ),
        ("implicitDeny", IDENTITY),
    ),
    (
        "variable absent",
        run(
            USER,
            resource=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/${{aws:username}}/device/d",
            policies=[OWN_FLEET],
        ),
        ("implicitDeny", IDENTITY),
    ),
    (
        "variables literal in 2008",
        run(
            USER,
            resource=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/${{aws:username}}/device/d",
            policies=[
                identity(
                    allow("sagemaker:*", "arn:aws:sagemaker:*:*:device-fleet/${aws:username}/*"),
                    version="2008-10-17",
                )
            ],
            context={"aws:username": "x"},
        ),
        ("allowed", IDENTITY),
    ),
    (
        "condition passes",
        run(
            USER,
            policies=[identity(allow(Condition={"Bool": {"aws:SecureTransport": "true"}}))],
            context={"aws:SecureTransport": "true"},
        ),
        ("allowed", IDENTITY),
    ),
    (
        "condition fails",
        run(USER, policies=[identity(allow(Condition={"Bool": {"aws:SecureTransport": "true"}}))]),
        ("implicitDeny", IDENTITY),
    ),
    (
        "deny condition absent key negated",
        run(
            USER,
            policies=[
                ALLOW_ALL,
                identity(deny(Condition={"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}})),
            ],
        ),
        ("explicitDeny", IDENTITY),
    ),
    (
        "deny condition false",
        run(
            USER,
            policies=[
                ALLOW_ALL,
                identity(deny(Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})),
            ],
            context={"aws:RequestedRegion": "us-east-1"},
        ),
        ("allowed", IDENTITY),
    ),
    (
        "list action needs star",
        run(USER, "iam:ListUsers", None, [identity(allow("iam:*", f"arn:aws:iam::{ACCOUNT}:user/*"))]),
        ("implicitDeny", IDENTITY),
    ),
    ("list action star", run(USER, "iam:ListUsers", None, [identity(allow("iam:*"))]), ("allowed", IDENTITY)),
]

BOUNDARY_CASES: list[tuple[str, Decision, tuple[str, PolicyType | None]]] = [
    (
        "boundary intersection",
        run(USER, policies=[ALLOW_ALL], boundary=[ALLOW_SAGEMAKER]),
        ("allowed", IDENTITY),
    ),
    (
        "boundary limits",
        run(USER, "iam:CreateUser", "*", [ALLOW_ALL], boundary=[ALLOW_SAGEMAKER]),
        ("implicitDeny", BOUNDARY),
    ),
    ("boundary grants nothing", run(USER, boundary=[ALLOW_SAGEMAKER]), ("implicitDeny", IDENTITY)),
    (
        "boundary deny",
        run(USER, policies=[ALLOW_ALL], boundary=[identity(allow(), deny(DESCRIBE))]),
        ("explicitDeny", BOUNDARY),
    ),
    (
        "session intersection",
        run(SESSION, policies=[ALLOW_ALL], session=[ALLOW_SAGEMAKER]),
        ("allowed", IDENTITY),
    ),
    (
        "session limits",
        run(SESSION, "iam:CreateUser", "*", [ALLOW_ALL], session=[ALLOW_SAGEMAKER]),
        ("implicitDeny", SESSION_POLICY),
    ),
    ("session grants nothing", run(SESSION, session=[ALLOW_ALL]), ("implicitDeny", IDENTITY)),
    (
        "session deny",
        run(SESSION, policies=[ALLOW_ALL], session=[ALLOW_ALL, DENY_SAGEMAKER]),
        ("explicitDeny", SESSION_POLICY),
    ),
    (
        "several session policies",
        run(SESSION, policies=[ALLOW_ALL], session=[identity(allow("iot:*")), ALLOW_SAGEMAKER]),
        ("allowed", IDENTITY),
    ),
    (
        "boundary before session",
        run(SESSION, "iam:GetRole", "*", [ALLOW_ALL], boundary=[ALLOW_SAGEMAKER], session=[ALLOW_SAGEMAKER]),
        ("implicitDeny", BOUNDARY),
    ),
    (
        "all three allow",
        run(SESSION, policies=[ALLOW_ALL], boundary=[ALLOW_SAGEMAKER], session=[ALLOW_ALL]),
        ("allowed", IDENTITY),
    ),
]

ROOT_CASES: list[tuple[str, Decision, tuple[str, PolicyType | None]]] = [
    ("root allowed by default", run(ROOT), ("allowed", None)),
    (
        "root ignores identity policies",
        run(ROOT, policies=[DENY_SAGEMAKER], boundary=[identity(allow("iot:*"))]),
        ("allowed", None),
    ),
    ("root subject to resource deny", s3(ROOT, resource_policy=DENIES_EVERYONE), ("explicitDeny", RESOURCE)),
    ("root with resource allow", s3(ROOT, resource_policy=NAMES_ACCOUNT), ("allowed", RESOURCE)),
    (
        "root cross account",
        s3(
            Caller(CallerKind.ROOT, f"arn:aws:iam::{OTHER_ACCOUNT}:root", OTHER_ACCOUNT),
            resource_account=ACCOUNT,
        ),
        ("implicitDeny", RESOURCE),
    ),
]

CASES = IDENTITY_CASES + BOUNDARY_CASES + ROOT_CASES


@pytest.mark.parametrize(("name", "decision", "expected"), CASES, ids=[c[0] for c in CASES])
def test_golden_cases(name: str, decision: Decision, expected: tuple[str, PolicyType | None]) -> None:
    assert outcome(decision) == expected
    assert decision.allowed is (expected[0] == "allowed")
    assert decision.explicit_deny is (expected[0] == "explicitDeny")


def test_boundary_detail() -> None:
    assert run(USER, policies=[ALLOW_ALL], boundary=[ALLOW_SAGEMAKER]).boundary_allowed is True
    assert run(USER, "iot:ListThings", "*", [ALLOW_ALL], boundary=[ALLOW_SAGEMAKER]).boundary_allowed is False
    assert run(USER, policies=[ALLOW_ALL]).boundary_allowed is None


def test_matched_statements_carry_their_sources() -> None:
    managed = identity(allow("sagemaker:*", Sid="Edge"), source="arn:aws:iam::aws:policy/Edge")
    managed = managed.with_source("arn:aws:iam::aws:policy/Edge", "aws-managed")
    inline = identity(allow("iot:*"), deny(DESCRIBE, Sid="NoDescribe")).with_source("inline-1", "user")
    decision = run(USER, policies=[managed, inline])
    assert decision.eval_decision == "explicitDeny"
    assert [(m.source_id, m.source_type, m.sid, m.index, m.effect) for m in decision.matched] == [
        ("arn:aws:iam::aws:policy/Edge", "aws-managed", "Edge", 0, Effect.ALLOW),
        ("inline-1", "user", "NoDescribe", 1, Effect.DENY),
    ]
    assert {m.policy_type for m in decision.matched} == {IDENTITY}


def test_matched_statements_from_every_policy_type() -> None:
    decision = s3(SESSION, policies=[S3_READ], session=[ALLOW_ALL], boundary=[ALLOW_ALL], resource_policy=NAMES_ROLE)
    assert decision.allowed
    assert [m.policy_type for m in decision.matched] == [IDENTITY, BOUNDARY, SESSION_POLICY, RESOURCE]


def test_missing_context_keys_of_applicable_statements() -> None:
    policy = identity(
        allow("sagemaker:*", "arn:aws:sagemaker:*:*:device-fleet/${aws:username}/*"),
        allow("sagemaker:*", Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        allow("iot:*", Condition={"Bool": {"iot:Connection.Thing.IsAttached": "true"}}),
    )
    decision = run(USER, policies=[policy], context={"aws:ResourceTag/team": "red"})
    assert decision.missing_context_keys == ("aws:PrincipalTag/team", "aws:username")


def test_unknown_action_shape_only_matches_wildcards() -> None:
    assert run(USER, "nocolon", "*", [identity(allow("s3:*"))]).eval_decision == "implicitDeny"
    assert run(USER, "nocolon", "*", [ALLOW_ALL]).allowed


def test_identity_policy_refused_as_resource_policy() -> None:
    with pytest.raises(ValueError):
        run(USER, resource_policy=ALLOW_ALL)


def test_caller_from_core_principal() -> None:
    from edgeward.core.principal import Principal, PrincipalKind

    principal = Principal(
        PrincipalKind.ASSUMED_ROLE, ACCOUNT, SESSION_ARN, f"{ROLE_ID}:device-1", "SageMakerEdgeRole", "ASIAX"
    )
    caller = Caller.of(principal, parent_arn=ROLE_ARN)
    assert caller == SESSION
    assert s3(caller, resource_policy=NAMES_ROLE_ID).allowed
