"""Role aliases: the rules every creator shares (CreateRoleAlias, and SageMaker's CreateDeviceFleet, which
creates `SageMakerEdge-<fleet>`), without the authorization each caller does its own way.

The role must exist in the caller's account, and the alias's credential lifetime (900..43200 seconds) may
not exceed the role's MaxSessionDuration: the credentials provider could never honour it. The provider
checks again when it issues credentials, since the role can change afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.authorization import check_pass_role
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import role_aliases as repo
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos.role_aliases import RoleAliasRecord

MIN_DURATION = 900
MAX_DURATION = 43200
DEFAULT_DURATION = 3600
# The service that assumes an alias's role; AWS's own managed policies pass roles to the second name.
CREDENTIALS_SERVICE = "credentials.iot.amazonaws.com"
IOT_SERVICE = "iot.amazonaws.com"


def role_alias_arn(ctx: Context, alias: str) -> str:
    return ctx.arn("iot", f"rolealias/{alias}")


def checked_role(ctx: Context, role_arn: str, duration_seconds: int) -> None:
    """InvalidRequest unless the role exists in the account and allows sessions of `duration_seconds`."""
    if not MIN_DURATION <= duration_seconds <= MAX_DURATION:
        raise errors.invalid_request(
            f"credentialDurationSeconds must be between {MIN_DURATION} and {MAX_DURATION} seconds; "
            f"{duration_seconds} is not."
        )
    role = role_repo.get_role_by_arn(ctx.conn, ctx.account, role_arn)
    if role is None:
        raise errors.invalid_request(f"The role {role_arn} does not exist in account {ctx.account}.")
    if duration_seconds > role.max_session_duration:
        raise errors.invalid_request(
            f"credentialDurationSeconds ({duration_seconds}) exceeds the MaxSessionDuration of the role "
            f"{role_arn} ({role.max_session_duration} seconds)."
        )


def new_role_alias(
    ctx: Context, alias: str, role_arn: str, duration_seconds: int, tags: Mapping[str, str] | None
) -> RoleAliasRecord:
    """Create the alias after the semantic checks; ResourceAlreadyExists when the name is taken.
    The caller authorizes first (its own action and iam:PassRole)."""
    checked_role(ctx, role_arn, duration_seconds)
    arn = role_alias_arn(ctx, alias)
    try:
        return repo.create_role_alias(
            ctx.conn,
            account=ctx.account,
            arn=arn,
            alias=alias,
            role_arn=role_arn,
            credential_duration_seconds=duration_seconds,
            tags=tags,
        )
    except storage_errors.AlreadyExists:
        raise errors.already_exists(
            f"Role alias {alias} already exists.", resource_id=alias, resource_arn=arn
        ) from None


def check_pass_to_iot(ctx: Context, role_arn: str) -> None:
    """iam:PassRole to the IoT credentials provider; a grant naming iot.amazonaws.com is accepted too.
    The first refusal is the one reported. A missing role is IoT's InvalidRequest, not IAM's NoSuchEntity."""
    try:
        _pass_role(ctx, role_arn, CREDENTIALS_SERVICE)
    except ServiceError as first:
        if first.code != "AccessDeniedException":
            raise
        try:
            _pass_role(ctx, role_arn, IOT_SERVICE)
        except ServiceError as second:
            raise (first if second.code == "AccessDeniedException" else second) from None


def _pass_role(ctx: Context, role_arn: str, service: str) -> None:
    try:
        check_pass_role(ctx, role_arn, service)
    except ServiceError as exc:
        if exc.code == "NoSuchEntity":
            raise errors.invalid_request(f"The role {role_arn} does not exist in account {ctx.account}.") from None
        raise


def description(record: RoleAliasRecord) -> dict[str, Any]:
    """DescribeRoleAlias's `roleAliasDescription`."""
    return {
        "roleAlias": record.alias,
        "roleAliasArn": record.arn,
        "roleArn": record.role_arn,
        "owner": record.account,
        "credentialDurationSeconds": record.credential_duration_seconds,
        "creationDate": record.created_at,
        "lastModifiedDate": record.last_modified_at,
    }
