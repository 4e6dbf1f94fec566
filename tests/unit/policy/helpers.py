"""Small builders shared by the policy tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from edgeward.policy import (
    Caller,
    CallerKind,
    Decision,
    Policy,
    PolicyKind,
    PolicyType,
    Request,
    evaluate,
    parse_policy,
)

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/mateojackson"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/SageMakerEdgeRole"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/SageMakerEdgeRole/device-1"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
USER_ID = "AIDAEXAMPLEUSERID12345"
ROLE_ID = "AROAEXAMPLEROLEID12345"

USER = Caller(CallerKind.USER, USER_ARN, ACCOUNT, unique_id=USER_ID)
SESSION = Caller(CallerKind.ASSUMED_ROLE, SESSION_ARN, ACCOUNT, parent_arn=ROLE_ARN, unique_id=ROLE_ID)
ROOT = Caller(CallerKind.ROOT, ROOT_ARN, ACCOUNT)
OTHER_USER = Caller(CallerKind.USER, f"arn:aws:iam::{OTHER_ACCOUNT}:user/eve", OTHER_ACCOUNT)
IOT = Caller.service("credentials.iot.amazonaws.com")
ANONYMOUS = Caller.anonymous()

FLEET = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:device-fleet/fleet-1"
DEVICE = f"{FLEET}/device/device-1"
BUCKET = "arn:aws:s3:::sagemaker-edge-data"


def statement(effect: str, action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": effect}
    if action is not None:
        body["Action"] = action
    if resource is not None:
        body["Resource"] = resource
    body.update(extra)
    return body


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return statement("Allow", action, resource, **extra)


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return statement("Deny", action, resource, **extra)


def document(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        body = {"Version": version, **body}
    return json.dumps(body)


def identity(*statements: dict[str, Any], version: str | None = "2012-10-17", source: str = "") -> Policy:
    return parse_policy(document(*statements, version=version)).with_source(source or "inline", "user")


def resource_policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy(document(*statements), PolicyKind.RESOURCE).with_source("resource", "resource")


def trust_policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy(document(*statements), PolicyKind.TRUST).with_source("trust", "resource")


# --- evaluation fixtures ---------------------------------------------------------------------------

IDENTITY, RESOURCE, TRUST = PolicyType.IDENTITY, PolicyType.RESOURCE, PolicyType.TRUST
BOUNDARY, SESSION_POLICY = PolicyType.BOUNDARY, PolicyType.SESSION
DESCRIBE = "sagemaker:DescribeDevice"
OBJECT = f"{BUCKET}/data/x.bin"


def run(
    caller: Caller,
    action: str = DESCRIBE,
    resource: str | None = DEVICE,
    policies: Sequence[Policy] = (),
    *,
    boundary: Sequence[Policy] | None = None,
    session: Sequence[Policy] | None = None,
    resource_policy: Policy | None = None,
    context: dict[str, Any] | None = None,
    resource_account: str | None = None,
) -> Decision:
    request = Request(caller, action, resource, context, resource_account=resource_account)
    return evaluate(request, policies, boundary=boundary, session=session, resource_policy=resource_policy)


def outcome(decision: Decision) -> tuple[str, PolicyType | None]:
    return decision.eval_decision, decision.decided_by


ALLOW_ALL = identity(allow())
ALLOW_SAGEMAKER = identity(allow("sagemaker:*"))
DENY_SAGEMAKER = identity(deny("sagemaker:*"))
OWN_FLEET = identity(allow("sagemaker:Describe*", "arn:aws:sagemaker:*:*:device-fleet/${aws:username}/*"))


NAMES_USER = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": USER_ARN}))
NAMES_USER_ID = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": USER_ID}))
NAMES_ACCOUNT = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ACCOUNT}))
NAMES_ROOT = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
NAMES_EVERYONE = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal="*"))
NAMES_ROLE = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE_ARN}))
NAMES_ROLE_ID = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE_ID}))
NAMES_SESSION = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": SESSION_ARN}))
NAMES_OTHER_ACCOUNT = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": OTHER_ACCOUNT}))
NAMES_OTHER_USER = resource_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": OTHER_USER.arn}))
DENIES_EVERYONE = resource_policy(deny("s3:*", f"{BUCKET}/*", Principal="*"))
S3_READ = identity(allow("s3:GetObject"))
S3_BOUNDARY = [identity(allow("iam:*"))]


def s3(caller: Caller, **kwargs: Any) -> Decision:
    return run(caller, "s3:GetObject", OBJECT, **kwargs)


IOT_TRUST = trust_policy(allow("sts:AssumeRole", None, Principal={"Service": "credentials.iot.amazonaws.com"}))
SAGEMAKER_TRUST = trust_policy(allow("sts:AssumeRole", None, Principal={"Service": "sagemaker.amazonaws.com"}))
USER_TRUST = trust_policy(allow("sts:AssumeRole", None, Principal={"AWS": USER_ARN}))
ACCOUNT_TRUST = trust_policy(allow("sts:AssumeRole", None, Principal={"AWS": ACCOUNT}))
ROLE_TRUST = trust_policy(allow("sts:AssumeRole", None, Principal={"AWS": ROLE_ARN}))
DENY_TRUST = trust_policy(
    allow("sts:AssumeRole", None, Principal="*"), deny("sts:AssumeRole", None, Principal={"AWS": USER_ARN})
)
EXTERNAL_ID_TRUST = trust_policy(
    allow(
        "sts:AssumeRole",
        None,
        Principal={"AWS": USER_ARN},
        Condition={"StringEquals": {"sts:ExternalId": "secret-1"}},
    )
)
ASSUME = identity(allow("sts:AssumeRole", ROLE_ARN))


def assume(caller: Caller, trust: Policy, **kwargs: Any) -> Decision:
    return run(caller, "sts:AssumeRole", ROLE_ARN, resource_policy=trust, **kwargs)
