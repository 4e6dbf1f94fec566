"""Access keys: at most two per user, the secret shown once (seed 002)."""

from __future__ import annotations

from typing import Any

from edgeward.core.principal import PrincipalKind
from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.services.iam.names import entity_arn
from edgeward.services.iam.paging import page_args, page_output
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import access_keys as key_repo
from edgeward.storage.repos import users as user_repo
from edgeward.storage.repos.access_keys import AccessKeyRecord
from edgeward.storage.repos.users import UserRecord

QUOTA_MESSAGE = "Cannot exceed quota for AccessKeysPerUser: 2"


def _owner(ctx: Context, params: dict[str, Any], action: str) -> tuple[UserRecord | None, str]:
    """The user whose keys are meant (None for the account root) and its name, after authorizing `action` on it.

    Without UserName the caller's own keys are meant, as in AWS. A missing user is authorized on its `/`-path
    ARN first, so a caller without the permission learns nothing about which users exist.
    """
    name = params.get("UserName")
    principal = ctx.principal
    if name is None:
        if principal.kind is PrincipalKind.ROOT:
            ctx.authorize(action, principal.arn)
            return None, ""
        if principal.kind is not PrincipalKind.USER:
            raise errors.validation("Must specify userName when calling with non-User credentials")
        name = principal.name
    user = user_repo.get_user(ctx.conn, ctx.account, name)
    ctx.authorize(action, user.arn if user else entity_arn(ctx.account, "user", "/", name))
    if user is None:
        raise errors.no_such_user(name)
    return user, user.name


def _metadata(key: AccessKeyRecord, user_name: str) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": key.created_at,
    }
    if user_name:
        shape["UserName"] = user_name
    return shape


def _require_key(ctx: Context, user: UserRecord | None, access_key_id: str) -> AccessKeyRecord:
    key = key_repo.get_access_key(ctx.conn, ctx.account, access_key_id)
    if key is None or key.user_id != (user.id if user else None):
        raise errors.no_such_entity(f"The Access Key with id {access_key_id} cannot be found.")
    return key


def create_access_key(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    user, name = _owner(ctx, params, "iam:CreateAccessKey")
    try:
        key, secret = key_repo.create_access_key(ctx.conn, ctx.account, user, ctx.secrets)
    except storage_errors.QuotaExceeded:
        raise errors.limit_exceeded(QUOTA_MESSAGE) from None
    shape = _metadata(key, name)
    shape["SecretAccessKey"] = secret
    return {"AccessKey": shape}


def list_access_keys(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    user, name = _owner(ctx, params, "iam:ListAccessKeys")
    marker, max_items = page_args(params)
    keys = key_repo.list_access_keys(ctx.conn, ctx.account, user)
    start = next((i for i, k in enumerate(keys) if k.access_key_id == marker), 0) if marker else 0
    page = keys[start : start + max_items]
    more = start + max_items < len(keys)
    next_marker = keys[start + max_items].access_key_id if more else None
    return page_output("AccessKeyMetadata", [_metadata(k, name) for k in page], next_marker)


def update_access_key(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    user, _ = _owner(ctx, params, "iam:UpdateAccessKey")
    key = _require_key(ctx, user, params["AccessKeyId"])
    key_repo.update_status(ctx.conn, ctx.account, user, key.access_key_id, params["Status"])
    return {}


def delete_access_key(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    user, _ = _owner(ctx, params, "iam:DeleteAccessKey")
    key = _require_key(ctx, user, params["AccessKeyId"])
    key_repo.delete_access_key(ctx.conn, ctx.account, user, key.access_key_id)
    return {}


def get_access_key_last_used(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    access_key_id = params["AccessKeyId"]
    key = key_repo.get_access_key(ctx.conn, ctx.account, access_key_id)
    owner_name, owner_arn = _key_owner(ctx, key)
    ctx.authorize("iam:GetAccessKeyLastUsed", owner_arn)
    if key is None:
        raise errors.no_such_entity(f"The Access Key with id {access_key_id} cannot be found.")
    used: dict[str, Any] = {
        "ServiceName": key.last_used_service or "N/A",
        "Region": key.last_used_region or "N/A",
    }
    if key.last_used_at is not None:
        used["LastUsedDate"] = key.last_used_at
    output: dict[str, Any] = {"AccessKeyLastUsed": used}
    if owner_name:
        output["UserName"] = owner_name
    return output


def _key_owner(ctx: Context, key: AccessKeyRecord | None) -> tuple[str, str]:
    if key is None or key.user_id is None:
        return "", ctx.principal.arn if key is None else f"arn:aws:iam::{ctx.account}:root"
    user = user_repo.get_user_by_id(ctx.conn, key.user_id)
    return (user.name, user.arn) if user else ("", ctx.principal.arn)
