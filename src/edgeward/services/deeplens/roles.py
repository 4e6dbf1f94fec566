"""The five IAM roles of the registration wizard (seed 000, spec section 3), and the checks registration makes.

Which role backs the device's credentials: **AWSDeepLensGreengrassGroupRole**. In DeepLens it is the role
the code on the device (Greengrass group Lambdas) runs as, which is what credentials fetched by the device
are for; the other four are roles services assume in the cloud. For edgeward's credentials provider to
issue it, its trust policy must also trust `credentials.iot.amazonaws.com` (what `expected_trust_policy`
gives it, and what "Create role in IAM" should create); registration refuses a group role without that
trust, since a device could never authenticate with it.

Registering passes every role to the service that will assume it, so the caller needs `iam:PassRole` on
each, with `iam:PassedToService` naming that service (the role alias adds a second pass of the group role to
`credentials.iot.amazonaws.com`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.policy import Caller, PolicyError, PolicyKind, Request, cached_policy, evaluate
from edgeward.services.authorization import check_pass_role
from edgeward.services.context import Context
from edgeward.services.deeplens import errors
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos.roles import RoleRecord

CREDENTIALS_SERVICE = "credentials.iot.amazonaws.com"


@dataclass(frozen=True, slots=True)
class RoleSpec:
    kind: str  # the key in RegisterDevice's `Roles`
    name: str  # the name the wizard expects
    label: str  # the wizard's wording
    services: tuple[str, ...]  # services its trust policy must trust
    managed_policy: str


ROLE_SPECS: tuple[RoleSpec, ...] = (
    RoleSpec(
        "ServiceRole",
        "AWSDeepLensServiceRole",
        "IAM role for AWS DeepLens",
        ("deeplens.amazonaws.com",),
        "arn:aws:iam::aws:policy/service-role/AWSDeepLensServiceRolePolicy",
    ),
    RoleSpec(
        "GreengrassRole",
        "AWSDeepLensGreengrassRole",
        "IAM role for AWS Greengrass service",
        ("greengrass.amazonaws.com",),
        "arn:aws:iam::aws:policy/service-role/AWSGreengrassResourceAccessRolePolicy",
    ),
    RoleSpec(
        "GreengrassGroupRole",
        "AWSDeepLensGreengrassGroupRole",
        "IAM role for AWS Greengrass device groups",
        ("greengrass.amazonaws.com", CREDENTIALS_SERVICE),
        "arn:aws:iam::aws:policy/AWSDeepLensLambdaFunctionAccessPolicy",
    ),
    RoleSpec(
        "SageMakerRole",
        "AWSDeepLensSageMakerRole",
        "IAM role for Amazon SageMaker",
        ("sagemaker.amazonaws.com",),
        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    ),
    RoleSpec(
        "LambdaRole",
        "AWSDeepLensLambdaRole",
        "IAM role for AWS Lambda",
        ("lambda.amazonaws.com",),
        "arn:aws:iam::aws:policy/AWSLambdaFullAccess",
    ),
)
CREDENTIALS_ROLE_KIND = "GreengrassGroupRole"
_SPECS = {spec.kind: spec for spec in ROLE_SPECS}


def expected_trust_policy(spec: RoleSpec) -> str:
    """The trust policy "Create role in IAM" gives the role."""
    principal: Any = spec.services[0] if len(spec.services) == 1 else list(spec.services)
    statement = {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def trusts(role: RoleRecord, service: str) -> bool:
    """Whether the role's trust policy lets `service` assume it."""
    try:
        trust = cached_policy(role.trust_policy, PolicyKind.TRUST)
    except PolicyError:
        return False
    request = Request(Caller.service(service), "sts:AssumeRole", role.arn, {"aws:SourceAccount": role.account})
    return evaluate(request, resource_policy=trust).allowed


def role_problems(role: RoleRecord | None, spec: RoleSpec) -> list[str]:
    """What the wizard flags about a role (missing, or a trusted service missing); empty when it is fine."""
    if role is None:
        return [f"Role {spec.name} does not exist: create it in IAM."]
    return [
        f"Role {role.name} does not trust {service}: add it to the role's trust policy."
        for service in spec.services
        if not trusts(role, service)
    ]


def chosen_roles(ctx: Context, params: dict[str, Any]) -> dict[str, str]:
    """The request's `Roles` (kind -> role name or ARN; a missing kind takes the wizard's name) as role ARNs,
    each passed to its service (iam:PassRole); the credentials role must trust the credentials provider."""
    given = params.get("Roles") or {}
    if not isinstance(given, Mapping):
        raise errors.validation("Roles must map role kinds to role names or ARNs.")
    unknown = sorted(set(given) - set(_SPECS))
    if unknown:
        raise errors.validation(f"Unknown role kind {unknown[0]}: use one of {', '.join(_SPECS)}.")
    chosen: dict[str, str] = {}
    for spec in ROLE_SPECS:
        reference = given.get(spec.kind) or spec.name
        if not isinstance(reference, str):
            raise errors.validation(f"Roles.{spec.kind} must be a role name or ARN.")
        role = _passed_role(ctx, spec, reference)
        chosen[spec.kind] = role.arn
    _require_credentials_trust(ctx, chosen[CREDENTIALS_ROLE_KIND])
    return chosen


def _passed_role(ctx: Context, spec: RoleSpec, reference: str) -> RoleRecord:
    arn = _role_arn(ctx, reference)
    try:
        check_pass_role(ctx, arn, spec.services[0])
    except ServiceError as exc:
        if exc.code == "NoSuchEntity":
            raise errors.validation(
                f"The {spec.label} ({spec.kind}) {reference} does not exist: create it in IAM first."
            ) from None
        raise
    role = role_repo.get_role_by_arn(ctx.conn, ctx.account, arn)
    assert role is not None  # check_pass_role answered NoSuchEntity otherwise
    return role


def _role_arn(ctx: Context, reference: str) -> str:
    if reference.startswith("arn:"):
        return reference
    found = role_repo.get_role(ctx.conn, ctx.account, reference)
    return found.arn if found else role_repo.role_arn(ctx.account, "/", reference)


def _require_credentials_trust(ctx: Context, role_arn: str) -> None:
    role = role_repo.get_role_by_arn(ctx.conn, ctx.account, role_arn)
    if role is None or not trusts(role, CREDENTIALS_SERVICE):
        name = role.name if role else role_arn
        raise errors.validation(
            f"The device's credentials come from the {_SPECS[CREDENTIALS_ROLE_KIND].label} ({name}), but its trust "
            f"policy does not trust {CREDENTIALS_SERVICE}: add that service principal to the role's trust policy."
        )
