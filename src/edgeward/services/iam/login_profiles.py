"""Console passwords: CreateLoginProfile, GetLoginProfile, UpdateLoginProfile, DeleteLoginProfile and
ChangePassword (an IAM user changing its own).

Passwords are hashed in the storage layer (argon2id) and never echoed, logged or put in errors.
"""

from __future__ import annotations

from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.core.principal import PrincipalKind
from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.services.iam.password_policy import check_password
from edgeward.services.iam.users import user_arn_for
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import login_profiles as profile_repo
from edgeward.storage.repos import users as user_repo
from edgeward.storage.repos.login_profiles import LoginProfileRecord
from edgeward.storage.repos.users import UserRecord

NON_USER = "Must specify userName when calling with non-User credentials"
PASSWORD_MISSING = (
    "1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null"
)


def _no_profile(name: str) -> ServiceError:
    return errors.no_such_entity(f"Login Profile for User {name} cannot be found.")


def _profile_shape(user: UserRecord, profile: LoginProfileRecord) -> dict[str, Any]:
    return {
        "UserName": user.name,
        "CreateDate": profile.created_at,
        "PasswordResetRequired": profile.password_reset_required,
    }


def _user(ctx: Context, action: str, params: dict[str, Any]) -> UserRecord:
    """Authorize `action` on the user named by `UserName` (the calling user when left out), then find it."""
    name = params.get("UserName")
    if name is None:
        principal = ctx.principal
        if principal.kind is not PrincipalKind.USER or principal.entity_id is None:
            raise errors.validation(NON_USER)
        ctx.authorize(action, principal.arn)
        user = user_repo.get_user_by_id(ctx.conn, principal.entity_id)
        name = principal.name
    else:
        user = user_repo.get_user(ctx.conn, ctx.account, name)
        ctx.authorize(action, user_arn_for(ctx, name, user))
    if user is None:
        raise errors.no_such_user(name)
    return user


def create_login_profile(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    user = _user(ctx, "iam:CreateLoginProfile", params)
    password = params.get("Password")
    if password is None:
        raise errors.validation(PASSWORD_MISSING)
    if profile_repo.has_login_profile(ctx.conn, user.id):
        raise errors.already_exists(f"Login Profile for user {user.name} already exists.")
    check_password(ctx, password)
    reset = bool(params.get("PasswordResetRequired", False))
    try:
        profile = profile_repo.create_login_profile(ctx.conn, user.id, password, reset)
    except storage_errors.AlreadyExists:  # a concurrent CreateLoginProfile won
        raise errors.already_exists(f"Login Profile for user {user.name} already exists.") from None
    except storage_errors.NotFound:  # the user was deleted meanwhile
        raise errors.no_such_user(user.name) from None
    return {"LoginProfile": _profile_shape(user, profile)}


def get_login_profile(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    user = _user(ctx, "iam:GetLoginProfile", params)
    profile = profile_repo.get_login_profile(ctx.conn, user.id)
    if profile is None:
        raise _no_profile(user.name)
    return {"LoginProfile": _profile_shape(user, profile)}


def update_login_profile(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """A new password and/or the reset flag; whatever is left out stays as it is."""
    user = _user(ctx, "iam:UpdateLoginProfile", params)
    if profile_repo.get_login_profile(ctx.conn, user.id, lock=True) is None:
        raise _no_profile(user.name)
    reset = params.get("PasswordResetRequired")
    password = params.get("Password")
    if password is not None:
        check_password(ctx, password, user.id)
        profile_repo.set_password(ctx.conn, user.id, password, password_reset_required=reset)
    elif reset is not None:
        profile_repo.set_password_reset_required(ctx.conn, user.id, bool(reset))
    return {}


def delete_login_profile(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    user = _user(ctx, "iam:DeleteLoginProfile", params)
    if not profile_repo.delete_login_profile(ctx.conn, user.id):
        raise _no_profile(user.name)
    return {}


def change_password(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """An IAM user changes its own console password, proving the old one; clears PasswordResetRequired."""
    principal = ctx.principal
    ctx.authorize("iam:ChangePassword", principal.arn)
    if principal.kind is not PrincipalKind.USER or principal.entity_id is None:
        raise ServiceError("InvalidUserType", "Only IAM users can change their own password.", 400)
    user = user_repo.get_user_by_id(ctx.conn, principal.entity_id)
    if user is None:
        raise errors.no_such_user(principal.name)
    if profile_repo.get_login_profile(ctx.conn, user.id, lock=True) is None:
        raise _no_profile(user.name)
    if not profile_repo.verify_password(ctx.conn, user.id, params["OldPassword"]):
        raise ServiceError("AccessDenied", "The old password was incorrect.", 403)
    check_password(ctx, params["NewPassword"], user.id)
    profile_repo.set_password(ctx.conn, user.id, params["NewPassword"], password_reset_required=False)
    return {}
