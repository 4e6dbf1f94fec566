"""Golden cases for resource-based and role trust policies: principals, NotPrincipal, cross-account."""

from __future__ import annotations

import pytest

from edgeward.policy import (
    Caller,
    CallerKind,
    Decision,
    PolicyType,
)

from .helpers import (
    ACCOUNT,
    ACCOUNT_TRUST,
    ALLOW_ALL,
    ALLOW_SAGEMAKER,
    ANONYMOUS,
    ASSUME,
    BOUNDARY,
    BUCKET,
    DENIES_EVERYONE,
    DENY_TRUST,
    EXTERNAL_ID_TRUST,
    IDENTITY,
    IOT,
    IOT_TRUST,
    NAMES_ACCOUNT,
    NAMES_EVERYONE,
    NAMES_OTHER_ACCOUNT,
    NAMES_OTHER_USER,
    NAMES_ROLE,
    NAMES_ROLE_ID,
    NAMES_ROOT,
    NAMES_SESSION,
    NAMES_USER,
    NAMES_USER_ID,
    OTHER_USER,
    RESOURCE,
    ROLE_ARN,
    ROLE_TRUST,
    ROOT,
    S3_BOUNDARY,
    S3_READ,
    SAGEMAKER_TRUST,
    SESSION,
    SESSION_ARN,
    SESSION_POLICY,
    TRUST,
    USER,
    USER_ARN,
    USER_TRUST,
    allow,
    assume,
    deny,
    identity,
    outcome,
    resource_policy,
    s3,
)

RESOURCE_CASES: list[tuple[str, Decision, tuple[str, PolicyType | None]]] = [
    ("user named grants alone", s3(USER, resource_policy=NAMES_USER), ("allowed", RESOURCE)),
    ("user unique id grants alone", s3(USER, resource_policy=NAMES_USER_ID), ("allowed", RESOURCE)),
    (
        "user named beats boundary",
        s3(USER, boundary=S3_BOUNDARY, resource_policy=NAMES_USER),
        ("allowed", RESOURCE),
    ),
    ("everyone grants alone", s3(USER, resource_policy=NAMES_EVERYONE), ("allowed", RESOURCE)),
    ("account needs identity", s3(USER, resource_policy=NAMES_ACCOUNT), ("implicitDeny", IDENTITY)),
    ("account root needs identity", s3(USER, resource_policy=NAMES_ROOT), ("implicitDeny", IDENTITY)),
    (
        "account plus identity",
        s3(USER, policies=[S3_READ], resource_policy=NAMES_ACCOUNT),
        ("allowed", IDENTITY),
    ),
    (
        "identity alone same account",
        s3(USER, policies=[S3_READ], resource_policy=NAMES_OTHER_USER),
        ("allowed", IDENTITY),
    ),
    ("other principal named", s3(USER, resource_policy=NAMES_OTHER_USER), ("implicitDeny", IDENTITY)),
    (
        "resource deny beats identity",
        s3(USER, policies=[S3_READ], resource_policy=DENIES_EVERYONE),
        ("explicitDeny", RESOURCE),
    ),
    ("role named grants session", s3(SESSION, resource_policy=NAMES_ROLE), ("allowed", RESOURCE)),
    ("role id grants session", s3(SESSION, resource_policy=NAMES_ROLE_ID), ("allowed", RESOURCE)),
    (
        "role named bounded by boundary",
        s3(SESSION, boundary=S3_BOUNDARY, resource_policy=NAMES_ROLE),
        ("implicitDeny", BOUNDARY),
    ),
    (
        "role named bounded by session",
        s3(SESSION, session=S3_BOUNDARY, resource_policy=NAMES_ROLE),
        ("implicitDeny", SESSION_POLICY),
    ),
    (
        "session named beats session policy",
        s3(SESSION, session=S3_BOUNDARY, boundary=S3_BOUNDARY, resource_policy=NAMES_SESSION),
        ("allowed", RESOURCE),
    ),
    ("session named not user", s3(USER, resource_policy=NAMES_SESSION), ("implicitDeny", IDENTITY)),
    ("anonymous everyone", s3(ANONYMOUS, resource_policy=NAMES_EVERYONE), ("allowed", RESOURCE)),
    ("anonymous account", s3(ANONYMOUS, resource_policy=NAMES_ACCOUNT), ("implicitDeny", IDENTITY)),
    ("anonymous nothing", s3(ANONYMOUS), ("implicitDeny", IDENTITY)),
    (
        "resource condition",
        s3(
            USER,
            resource_policy=resource_policy(
                allow(
                    "s3:GetObject",
                    f"{BUCKET}/*",
                    Principal="*",
                    Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                )
            ),
            context={"aws:SourceIp": "10.9.9.9"},
        ),
        ("allowed", RESOURCE),
    ),
    (
        "resource condition fails",
        s3(
            USER,
            resource_policy=resource_policy(
                allow(
                    "s3:GetObject",
                    f"{BUCKET}/*",
                    Principal="*",
                    Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                )
            ),
            context={"aws:SourceIp": "11.9.9.9"},
        ),
        ("implicitDeny", IDENTITY),
    ),
    (
        "cross account no resource policy",
        s3(OTHER_USER, policies=[S3_READ], resource_account=ACCOUNT),
        ("implicitDeny", RESOURCE),
    ),
    (
        "cross account both allow",
        s3(OTHER_USER, policies=[S3_READ], resource_policy=NAMES_OTHER_ACCOUNT, resource_account=ACCOUNT),
        ("allowed", IDENTITY),
    ),
    (
        "cross account named needs identity",
        s3(OTHER_USER, resource_policy=NAMES_OTHER_USER, resource_account=ACCOUNT),
        ("implicitDeny", IDENTITY),
    ),
    (
        "same account flag",
        s3(USER, resource_policy=NAMES_USER, resource_account=ACCOUNT),
        ("allowed", RESOURCE),
    ),
]

NOT_PRINCIPAL_USER_ONLY = resource_policy(deny("s3:*", f"{BUCKET}/*", NotPrincipal={"AWS": USER_ARN}))
NOT_PRINCIPAL_USER_AND_ACCOUNT = resource_policy(deny("s3:*", f"{BUCKET}/*", NotPrincipal={"AWS": [USER_ARN, ACCOUNT]}))
NOT_PRINCIPAL_SESSION_CHAIN = resource_policy(
    deny("s3:*", f"{BUCKET}/*", NotPrincipal={"AWS": [SESSION_ARN, ROLE_ARN, ACCOUNT]})
)

NOT_PRINCIPAL_CASES: list[tuple[str, Decision, tuple[str, PolicyType | None]]] = [
    (
        "user alone not spared",
        s3(USER, policies=[S3_READ], resource_policy=NOT_PRINCIPAL_USER_ONLY),
        ("explicitDeny", RESOURCE),
    ),
    (
        "user and account spared",
        s3(USER, policies=[S3_READ], resource_policy=NOT_PRINCIPAL_USER_AND_ACCOUNT),
        ("allowed", IDENTITY),
    ),
    (
        "other user denied",
        s3(
            Caller(CallerKind.USER, f"arn:aws:iam::{ACCOUNT}:user/eve", ACCOUNT),
            policies=[S3_READ],
            resource_policy=NOT_PRINCIPAL_USER_AND_ACCOUNT,
        ),
        ("explicitDeny", RESOURCE),
    ),
    (
        "session chain spared",
        s3(SESSION, policies=[S3_READ], resource_policy=NOT_PRINCIPAL_SESSION_CHAIN),
        ("allowed", IDENTITY),
    ),
    (
        "session needs whole chain",
        s3(SESSION, policies=[S3_READ], resource_policy=NOT_PRINCIPAL_USER_AND_ACCOUNT),
        ("explicitDeny", RESOURCE),
    ),
    (
        "anonymous denied",
        s3(ANONYMOUS, resource_policy=NOT_PRINCIPAL_USER_AND_ACCOUNT),
        ("explicitDeny", RESOURCE),
    ),
]

TRUST_CASES: list[tuple[str, Decision, tuple[str, PolicyType | None]]] = [
    ("iot service trusted", assume(IOT, IOT_TRUST), ("allowed", TRUST)),
    ("iot service not trusted", assume(IOT, SAGEMAKER_TRUST), ("implicitDeny", TRUST)),
    ("user named alone", assume(USER, USER_TRUST), ("allowed", TRUST)),
    ("account needs identity", assume(USER, ACCOUNT_TRUST), ("implicitDeny", IDENTITY)),
    ("account plus identity", assume(USER, ACCOUNT_TRUST, policies=[ASSUME]), ("allowed", IDENTITY)),
    ("identity alone is not enough", assume(USER, IOT_TRUST, policies=[ALLOW_ALL]), ("implicitDeny", TRUST)),
    ("trust deny", assume(USER, DENY_TRUST, policies=[ASSUME]), ("explicitDeny", TRUST)),
    ("role chaining names the role", assume(SESSION, ROLE_TRUST), ("allowed", TRUST)),
    (
        "role chaining bounded",
        assume(SESSION, ROLE_TRUST, session=[ALLOW_SAGEMAKER]),
        ("implicitDeny", SESSION_POLICY),
    ),
    (
        "external id matches",
        assume(USER, EXTERNAL_ID_TRUST, context={"sts:ExternalId": "secret-1"}),
        ("allowed", TRUST),
    ),
    ("external id missing", assume(USER, EXTERNAL_ID_TRUST), ("implicitDeny", TRUST)),
    (
        "identity deny beats trust",
        assume(USER, USER_TRUST, policies=[identity(deny("sts:*"))]),
        ("explicitDeny", IDENTITY),
    ),
    ("root not named", assume(ROOT, IOT_TRUST), ("implicitDeny", TRUST)),
    ("root account named", assume(ROOT, ACCOUNT_TRUST), ("allowed", TRUST)),
]

CASES = RESOURCE_CASES + NOT_PRINCIPAL_CASES + TRUST_CASES


@pytest.mark.parametrize(("name", "decision", "expected"), CASES, ids=[c[0] for c in CASES])
def test_golden_cases(name: str, decision: Decision, expected: tuple[str, PolicyType | None]) -> None:
    assert outcome(decision) == expected
    assert decision.allowed is (expected[0] == "allowed")
    assert decision.explicit_deny is (expected[0] == "explicitDeny")
