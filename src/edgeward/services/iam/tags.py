"""Tags of IAM users and roles: TagUser/UntagUser/ListUserTags, TagRole/UntagRole/ListRoleTags, and the
tag rules CreateUser/CreateRole share.

For users and roles IAM treats tag keys case-insensitively but keeps their case: `Team` replaces `team`.
At most 50 tags per entity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edgeward.policy import ContextValue
from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.services.iam.names import entity_arn
from edgeward.services.iam.paging import page_args, page_output
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos import users as user_repo

MAX_TAGS = 50
DUPLICATE_KEYS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


def tags_from_params(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """The `Tags` parameter as a dict; InvalidInput when two keys differ only in letter case."""
    result: dict[str, str] = {}
    seen: set[str] = set()
    for tag in tags or ():
        key = str(tag["Key"])
        if key.lower() in seen:
            raise errors.invalid_input(DUPLICATE_KEYS)
        seen.add(key.lower())
        result[key] = str(tag.get("Value") or "")
    return result


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def request_tag_keys(tags: Mapping[str, str]) -> dict[str, ContextValue]:
    """Condition keys of a request that sets tags: `aws:RequestTag/<key>` and `aws:TagKeys`."""
    keys: dict[str, ContextValue] = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    keys["aws:TagKeys"] = list(tags)
    return keys


def resource_tag_keys(tags: Mapping[str, str]) -> dict[str, ContextValue]:
    """Condition keys describing an existing user's or role's tags (`aws:ResourceTag/<key>`, `iam:` too)."""
    keys: dict[str, ContextValue] = {}
    for key, value in tags.items():
        keys[f"aws:ResourceTag/{key}"] = value
        keys[f"iam:ResourceTag/{key}"] = value
    return keys


def check_count(tags: Mapping[str, str], kind: str) -> None:
    if len(tags) > MAX_TAGS:
        raise errors.limit_exceeded(f"Cannot exceed quota for TagsPer{kind}: {MAX_TAGS}")


def merged(existing: Mapping[str, str], new: Mapping[str, str], kind: str) -> dict[str, str]:
    replaced = {key.lower() for key in new}
    result = {key: value for key, value in existing.items() if key.lower() not in replaced}
    result.update(new)
    check_count(result, kind)
    return result


def without(existing: Mapping[str, str], keys: Iterable[str]) -> dict[str, str]:
    removed = {key.lower() for key in keys}
    return {key: value for key, value in existing.items() if key.lower() not in removed}


# -- the six operations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tagged:
    """A user or role as the tag operations see it (row-locked when it exists)."""

    kind: str  # "User" or "Role", as in the action and quota names
    name: str
    arn: str
    entity_id: int | None  # None: no such entity
    tags: Mapping[str, str]

    def require(self) -> int:
        if self.entity_id is None:
            raise errors.no_such_entity(f"The {self.kind.lower()} with name {self.name} cannot be found.")
        return self.entity_id


def _user(ctx: Context, params: dict[str, Any], *, lock: bool = True) -> _Tagged:
    name = params["UserName"]
    user = user_repo.get_user(ctx.conn, ctx.account, name, lock=lock)
    if user is None:
        return _Tagged("User", name, entity_arn(ctx.account, "user", "/", name), None, {})
    return _Tagged("User", name, user.arn, user.id, user.tags)


def _role(ctx: Context, params: dict[str, Any], *, lock: bool = True) -> _Tagged:
    name = params["RoleName"]
    role = role_repo.get_role(ctx.conn, ctx.account, name, lock=lock)
    if role is None:
        return _Tagged("Role", name, entity_arn(ctx.account, "role", "/", name), None, {})
    return _Tagged("Role", name, role.arn, role.id, role.tags)


def _save(ctx: Context, entity: _Tagged, tags: dict[str, str]) -> None:
    entity_id = entity.require()
    if entity.kind == "User":
        user_repo.set_user_tags(ctx.conn, entity_id, tags)
    else:
        role_repo.set_role_tags(ctx.conn, entity_id, tags)


def _tag(entity: _Tagged, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    new = tags_from_params(params["Tags"])
    ctx.authorize(f"iam:Tag{entity.kind}", entity.arn, {**resource_tag_keys(entity.tags), **request_tag_keys(new)})
    _save(ctx, entity, merged(entity.tags, new, entity.kind))
    return {}


def _untag(entity: _Tagged, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    keys = list(params["TagKeys"])
    condition: dict[str, ContextValue] = {**resource_tag_keys(entity.tags), "aws:TagKeys": keys}
    ctx.authorize(f"iam:Untag{entity.kind}", entity.arn, condition)
    _save(ctx, entity, without(entity.tags, keys))
    return {}


def _list(entity: _Tagged, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize(f"iam:List{entity.kind}Tags", entity.arn, resource_tag_keys(entity.tags))
    entity.require()
    ordered = sorted(entity.tags.items(), key=lambda item: item[0].lower())
    marker, max_items = page_args(params)
    if marker is not None:
        ordered = [item for item in ordered if item[0].lower() > marker]
    page = ordered[:max_items]
    next_marker = page[-1][0].lower() if len(ordered) > max_items else None
    return page_output("Tags", tag_list(dict(page)), next_marker)


def tag_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _tag(_user(ctx, params), ctx, params)


def untag_user(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _untag(_user(ctx, params), ctx, params)


def list_user_tags(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _list(_user(ctx, params, lock=False), ctx, params)


def tag_role(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _tag(_role(ctx, params), ctx, params)


def untag_role(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _untag(_role(ctx, params), ctx, params)


def list_role_tags(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _list(_role(ctx, params, lock=False), ctx, params)
