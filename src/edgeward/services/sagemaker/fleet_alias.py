"""The IoT role alias a fleet makes for its devices: `SageMakerEdge-<fleet>`, pointing at the fleet's role.

CreateDeviceFleet makes it unless `EnableIotRoleAlias` is explicitly false (spec section 0: the seed calls
CreateDeviceFleet without the flag and then reads `IotRoleAlias`); without a RoleArn there is nothing to
point at, so no alias. In AWS, SageMaker creates the alias with the fleet's role, not with the caller's
permissions: the caller needs iam:PassRole for the role, not iot:CreateRoleAlias. DeleteDeviceFleet deletes
the alias it made.

The IoT rules (role exists, lifetime within the role's MaxSessionDuration) come from the IoT service; their
errors are answered in SageMaker's words.
"""

from __future__ import annotations

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.iot import role_aliases
from edgeward.services.sagemaker import errors
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import role_aliases as alias_repo

ALIAS_PREFIX = "SageMakerEdge-"


def alias_name(fleet: str) -> str:
    return f"{ALIAS_PREFIX}{fleet}"


def wanted(enable_flag: bool | None, role_arn: str | None) -> bool:
    """Whether CreateDeviceFleet makes an alias: a role to point at, and the flag not explicitly false."""
    if enable_flag and not role_arn:
        raise errors.validation("EnableIotRoleAlias requires a RoleArn: the role alias needs a role to point at.")
    return bool(role_arn) and enable_flag is not False


def create_alias(ctx: Context, fleet: str, role_arn: str) -> str:
    """Create `SageMakerEdge-<fleet>` for `role_arn`; its ARN. ResourceInUse when the alias exists already."""
    name = alias_name(fleet)
    try:
        record = role_aliases.new_role_alias(ctx, name, role_arn, role_aliases.DEFAULT_DURATION, None)
    except ServiceError as exc:
        raise _in_sagemaker_words(exc, name) from None
    return record.arn


def repoint_alias(ctx: Context, fleet: str, role_arn: str) -> None:
    """Point the fleet's alias at a new role (UpdateDeviceFleet with a RoleArn); nothing if it is gone."""
    record = alias_repo.get_role_alias(ctx.conn, ctx.account, alias_name(fleet), lock=True)
    if record is None:
        return
    try:
        role_aliases.checked_role(ctx, role_arn, record.credential_duration_seconds)
        alias_repo.update_role_alias(ctx.conn, record, role_arn=role_arn)
    except ServiceError as exc:
        raise _in_sagemaker_words(exc, record.alias) from None
    except storage_errors.NotFound:
        return


def delete_alias(ctx: Context, alias_arn: str) -> None:
    """Delete the alias a fleet made (by the name at the end of its ARN); gone already is fine."""
    alias_repo.delete_role_alias(ctx.conn, ctx.account, alias_arn.rsplit("/", 1)[-1])


def _in_sagemaker_words(exc: ServiceError, alias: str) -> ServiceError:
    if exc.code == "ResourceAlreadyExistsException":
        return errors.resource_in_use(
            f"The IoT role alias {alias} already exists. Delete it, or create the fleet with EnableIotRoleAlias=false."
        )
    if exc.code == "InvalidRequestException":
        return errors.validation(exc.message)
    return exc
