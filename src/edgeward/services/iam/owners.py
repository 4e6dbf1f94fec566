"""The users, groups and roles that policies belong to ("owners"), looked up the same way for all three."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core.errors import ServiceError
from edgeward.services.context import Context
from edgeward.services.iam import errors
from edgeward.services.iam.names import entity_arn
from edgeward.storage.repos import groups as group_repo
from edgeward.storage.repos import roles as role_repo
from edgeward.storage.repos import users as user_repo
from edgeward.storage.repos.groups import GroupRecord
from edgeward.storage.repos.roles import RoleRecord
from edgeward.storage.repos.users import UserRecord

KINDS = ("user", "group", "role")


@dataclass(frozen=True, slots=True)
class Owner:
    kind: str  # 'user' | 'group' | 'role'
    id: int
    name: str
    path: str
    arn: str
    unique_id: str
    boundary: str | None  # permissions boundary ARN (users and roles)
    record: UserRecord | GroupRecord | RoleRecord


def of_user(user: UserRecord) -> Owner:
    return Owner("user", user.id, user.name, user.path, user.arn, user.unique_id, user.permissions_boundary, user)


def of_group(group: GroupRecord) -> Owner:
    return Owner("group", group.id, group.name, group.path, group.arn, group.unique_id, None, group)


def of_role(role: RoleRecord) -> Owner:
    return Owner("role", role.id, role.name, role.path, role.arn, role.unique_id, role.permissions_boundary, role)


def find(conn: Connection, account: str, kind: str, name: str, *, lock: bool = False) -> Owner | None:
    """The user, group or role of that name (any letter case); `lock=True` takes its row lock."""
    if kind == "user":
        user = user_repo.get_user(conn, account, name, lock=lock)
        return None if user is None else of_user(user)
    if kind == "group":
        group = group_repo.get_group(conn, account, name, lock=lock)
        return None if group is None else of_group(group)
    role = role_repo.get_role(conn, account, name, lock=lock)
    return None if role is None else of_role(role)


def by_id(conn: Connection, kind: str, owner_id: int) -> Owner | None:
    if kind == "user":
        user = user_repo.get_user_by_id(conn, owner_id)
        return None if user is None else of_user(user)
    if kind == "group":
        group = group_repo.get_group_by_id(conn, owner_id)
        return None if group is None else of_group(group)
    role = role_repo.get_role_by_id(conn, owner_id)
    return None if role is None else of_role(role)


def by_arn(conn: Connection, account: str, arn: str) -> Owner | None:
    """The user, group or role an ARN of `account` names (path exact, name in any letter case)."""
    try:
        parsed = arns.Arn.parse(arn)
    except ValueError:
        return None
    kind, _, rest = parsed.resource.partition("/")
    if parsed.service != "iam" or parsed.account != account or kind not in KINDS or not rest:
        return None
    path, _, name = f"/{rest}".rpartition("/")
    found = find(conn, account, kind, name)
    return found if found is not None and found.path == f"{path}/" else None


def missing(kind: str, name: str) -> ServiceError:
    return errors.no_such_entity(f"The {kind} with name {name} cannot be found.")


def require(
    ctx: Context,
    kind: str,
    name: str,
    action: str,
    condition: Mapping[str, Any] | None = None,
    *,
    lock: bool = False,
) -> Owner:
    """Look the owner up, authorize `action` on it (on a `/`-path ARN when it does not exist, so a denial
    does not reveal that), then raise NoSuchEntity if it does not exist."""
    owner = find(ctx.conn, ctx.account, kind, name, lock=lock)
    ctx.authorize(action, owner.arn if owner else entity_arn(ctx.account, kind, "/", name), condition)
    if owner is None:
        raise missing(kind, name)
    return owner


def groups_of(conn: Connection, user_id: int) -> list[GroupRecord]:
    """The user's groups, by name."""
    user = user_repo.get_user_by_id(conn, user_id)
    if user is None:
        return []
    found: list[GroupRecord] = []
    marker: str | None = None
    while True:
        page, marker = group_repo.list_groups_for_user(conn, user, marker, 1000)
        found.extend(page)
        if marker is None:
            return found
