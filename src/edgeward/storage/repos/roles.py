"""IAM roles. Names are unique per account case-insensitively (`AWSDeepLensSagemakerRole` is
`AWSDeepLensSageMakerRole`); the database enforces it.

STS and the authorizer find roles here too: `get_role_by_id` (a session's role), `get_role_by_arn`
(AssumeRole's `RoleArn`, a role alias's role), `record_last_used` (RoleLastUsed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, or_, update

from edgeward.core import arn as arns
from edgeward.core import clock, ids
from edgeward.storage.errors import NotFound
from edgeward.storage.repos.users import find_one, insert_named, name_key, named_page
from edgeward.storage.tables_entities import iam_roles

ROLE_ID_PREFIX = "AROA"
DEFAULT_MAX_SESSION_DURATION = 3600
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class RoleRecord:
    id: int
    account: str
    name: str
    path: str
    unique_id: str
    arn: str
    created_at: datetime
    description: str | None
    max_session_duration: int
    trust_policy: str
    permissions_boundary: str | None
    tags: Mapping[str, str]
    last_used_at: datetime | None
    last_used_region: str | None


def role_arn(account: str, path: str, name: str) -> str:
    return arns.iam_entity(account, "role", path, name)


def create_role(
    conn: Connection,
    account: str,
    name: str,
    trust_policy: str,
    *,
    path: str = "/",
    description: str | None = None,
    max_session_duration: int = DEFAULT_MAX_SESSION_DURATION,
    permissions_boundary: str | None = None,
    tags: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> RoleRecord:
    """Insert a role; AlreadyExists when the account has a role of that name in any letter case.

    The trust policy is stored as given (AWS returns it as written); validating it is the caller's job.
    """
    values: dict[str, Any] = {
        "account_id": account,
        "name": name,
        "name_lower": name_key(name),
        "path": path,
        "unique_id": ids.unique_id(ROLE_ID_PREFIX),
        "arn": role_arn(account, path, name),
        "created_at": now or clock.now(),
        "description": description,
        "max_session_duration": max_session_duration,
        "trust_policy": trust_policy,
        "permissions_boundary": permissions_boundary,
        "tags": dict(tags or {}),
        "last_used_at": None,
        "last_used_region": None,
    }
    return _record({**values, "id": insert_named(conn, iam_roles, values, "Role")})


def get_role(conn: Connection, account: str, name: str, *, lock: bool = False) -> RoleRecord | None:
    """The role of that name in any letter case. `lock=True`: as `users.get_user` (row lock for changes)."""
    return _one(conn, iam_roles.c.account_id == account, iam_roles.c.name_lower == name_key(name), lock=lock)


def get_role_by_id(conn: Connection, role_id: int, account: str | None = None) -> RoleRecord | None:
    """By database id (ids are never reused; pass `account` to also require it)."""
    conditions = [iam_roles.c.id == role_id]
    if account is not None:
        conditions.append(iam_roles.c.account_id == account)
    return _one(conn, *conditions)


def get_role_by_arn(conn: Connection, account: str, role_arn_text: str) -> RoleRecord | None:
    """The role an ARN names in `account`: the path must match exactly, the name in any letter case (IAM
    names are case-insensitive). None for another account, a malformed ARN, or no such role.
    """
    try:
        parsed = arns.Arn.parse(role_arn_text)
    except ValueError:
        return None
    if parsed.service != "iam" or parsed.account != account or not parsed.resource.startswith("role/"):
        return None
    path, _, name = parsed.resource[len("role") :].rpartition("/")
    role = get_role(conn, account, name) if name else None
    return role if role is not None and role.path == f"{path}/" else None


def list_roles(
    conn: Connection,
    account: str,
    path_prefix: str = "/",
    marker: str | None = None,
    max_items: int = 100,
) -> tuple[list[RoleRecord], str | None]:
    """Roles in name order (case-insensitively), a page at a time, and the next page's marker."""
    rows, next_marker = named_page(conn, iam_roles, [iam_roles.c.account_id == account], path_prefix, marker, max_items)
    return [_record(row) for row in rows], next_marker


def update_role(
    conn: Connection,
    role: RoleRecord,
    *,
    description: str | None = None,
    max_session_duration: int | None = None,
    trust_policy: str | None = None,
) -> RoleRecord:
    """Change the given attributes (None leaves one as it is); NotFound when the role is gone."""
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = description
    if max_session_duration is not None:
        changes["max_session_duration"] = max_session_duration
    if trust_policy is not None:
        changes["trust_policy"] = trust_policy
    if not changes:
        return role
    if conn.execute(update(iam_roles).where(iam_roles.c.id == role.id).values(changes)).rowcount == 0:
        raise NotFound(f"The role with name {role.name} cannot be found.")
    return replace(role, **changes)


def set_role_tags(conn: Connection, role_id: int, tags: Mapping[str, str]) -> None:
    """Replace the role's tags (read them with `get_role(..., lock=True)` to change them safely)."""
    conn.execute(update(iam_roles).where(iam_roles.c.id == role_id).values(tags=dict(tags)))


def set_role_permissions_boundary(conn: Connection, role_id: int, policy_arn: str | None) -> bool:
    """Set (or with None remove) the role's permissions boundary; False when the role is gone."""
    stmt = update(iam_roles).where(iam_roles.c.id == role_id).values(permissions_boundary=policy_arn)
    return bool(conn.execute(stmt).rowcount)


def record_last_used(
    conn: Connection, role_id: int, region: str, when: datetime, *, resolution: timedelta = LAST_USED_RESOLUTION
) -> bool:
    """Note that the role was assumed (RoleLastUsed). Repeats within `resolution` in the same region change
    no row, so calling this on every AssumeRole stays cheap; True if a row changed.
    """
    stmt = (
        update(iam_roles)
        .where(
            iam_roles.c.id == role_id,
            or_(
                iam_roles.c.last_used_at.is_(None),
                iam_roles.c.last_used_at < when - resolution,
                iam_roles.c.last_used_region.is_(None),
                iam_roles.c.last_used_region != region,
            ),
        )
        .values(last_used_at=when, last_used_region=region)
    )
    return bool(conn.execute(stmt).rowcount)


def delete_role(conn: Connection, role: RoleRecord) -> None:
    """Delete a role; NotFound when it is gone. Policies are polymorphic rows without foreign keys: the
    caller checks them first, under `get_role(..., lock=True)`.
    """
    if conn.execute(iam_roles.delete().where(iam_roles.c.id == role.id)).rowcount == 0:
        raise NotFound(f"The role with name {role.name} cannot be found.")


def _one(conn: Connection, *conditions: ColumnElement[bool], lock: bool = False) -> RoleRecord | None:
    row = find_one(conn, iam_roles, *conditions, lock=lock)
    return None if row is None else _record(row)


def _record(row: RowMapping | Mapping[str, Any]) -> RoleRecord:
    return RoleRecord(
        id=row["id"],
        account=row["account_id"],
        name=row["name"],
        path=row["path"],
        unique_id=row["unique_id"],
        arn=row["arn"],
        created_at=row["created_at"],
        description=row["description"],
        max_session_duration=row["max_session_duration"],
        trust_policy=row["trust_policy"],
        permissions_boundary=row["permissions_boundary"],
        tags=MappingProxyType(dict(row["tags"])),
        last_used_at=row["last_used_at"],
        last_used_region=row["last_used_region"],
    )
