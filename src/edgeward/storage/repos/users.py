"""IAM users. Names are unique per account case-insensitively; the database enforces it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    RowMapping,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from edgeward.core import arn as arns
from edgeward.core import clock, ids
from edgeward.storage.errors import AlreadyExists, InUse, NotFound
from edgeward.storage.fastpath import HotQuery
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.tables import iam_users

USER_ID_PREFIX = "AIDA"


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    account: str
    name: str
    path: str
    unique_id: str
    arn: str
    created_at: datetime
    permissions_boundary: str | None
    tags: Mapping[str, str]


def name_key(name: str) -> str:
    """The case-insensitive form IAM names are unique by."""
    return name.lower()


def user_arn(account: str, path: str, name: str) -> str:
    return arns.iam_entity(account, "user", path, name)


def create_user(
    conn: Connection,
    account: str,
    name: str,
    path: str = "/",
    tags: Mapping[str, str] | None = None,
    *,
    permissions_boundary: str | None = None,
    unique_id: str | None = None,
    now: datetime | None = None,
) -> UserRecord:
    """Insert a user; AlreadyExists when the account has a user of that name in any letter case.

    `unique_id` (`AIDA...`) is generated unless given.
    """
    unique_id = unique_id or ids.unique_id(USER_ID_PREFIX)
    created_at = now or clock.now()
    tag_map = dict(tags or {})
    values = {
        "account_id": account,
        "name": name,
        "name_lower": name_key(name),
        "path": path,
        "unique_id": unique_id,
        "arn": user_arn(account, path, name),
        "created_at": created_at,
        "permissions_boundary": permissions_boundary,
        "tags": tag_map,
    }
    user_id = insert_named(conn, iam_users, values, "User")
    return UserRecord(
        id=user_id,
        account=account,
        name=name,
        path=path,
        unique_id=unique_id,
        arn=user_arn(account, path, name),
        created_at=created_at,
        permissions_boundary=permissions_boundary,
        tags=MappingProxyType(tag_map),
    )


def get_user(conn: Connection, account: str, name: str, *, lock: bool = False) -> UserRecord | None:
    """The user of that name in any letter case.

    `lock=True` takes the row lock (PostgreSQL `FOR UPDATE`; SQLite's write transactions are serial
    anyway) for read-modify-write changes (tags) and for deletes, so that a concurrent change of the user,
    or an insert referring to it (access key, attachment made under the same lock), waits for this
    transaction instead of slipping past its checks.
    """
    statement = _BY_NAME_LOCKED if lock else _BY_NAME
    row = statement.first(conn, {"account": account, "name_lower": name_key(name)})
    if row is None:
        return None
    user_id, account_id, name, path, unique_id, arn, created_at, boundary, tags = row
    return UserRecord(
        user_id, account_id, name, path, unique_id, arn, created_at, boundary, MappingProxyType(tags or {})
    )


# Prebuilt and run on the driver (`storage.fastpath`): GetUser-style lookups are on the hot path of most
# IAM operations, and SQLAlchemy's per-execution work costs more than the indexed SELECT itself.
_USER_COLUMNS = (
    iam_users.c.id,
    iam_users.c.account_id,
    iam_users.c.name,
    iam_users.c.path,
    iam_users.c.unique_id,
    iam_users.c.arn,
    iam_users.c.created_at,
    iam_users.c.permissions_boundary,
    iam_users.c.tags,
)
_BY_NAME_SELECT = select(*_USER_COLUMNS).where(
    iam_users.c.account_id == bindparam("account"), iam_users.c.name_lower == bindparam("name_lower")
)
_BY_NAME = HotQuery(_BY_NAME_SELECT, typed=True)
_BY_NAME_LOCKED = HotQuery(_BY_NAME_SELECT.with_for_update(), typed=True)


def get_user_by_id(conn: Connection, user_id: int, account: str | None = None) -> UserRecord | None:
    """By database id (ids are unique across accounts; pass `account` to also require it)."""
    conditions = [iam_users.c.id == user_id]
    if account is not None:
        conditions.append(_in_account(account))
    return _one(conn, *conditions)


def list_users(
    conn: Connection,
    account: str,
    path_prefix: str = "/",
    marker: str | None = None,
    max_items: int = 100,
) -> tuple[list[UserRecord], str | None]:
    """Users ordered by name (case-insensitively), a page at a time.

    Returns the page and the marker for the next one (None on the last page). Markers are opaque to
    callers; a marker from another listing simply starts after that name.
    """
    rows, next_marker = named_page(conn, iam_users, [_in_account(account)], path_prefix, marker, max_items)
    return [user_from_row(row) for row in rows], next_marker


def rename_user(conn: Connection, user: UserRecord, new_name: str, new_path: str) -> UserRecord:
    """Give a user a new name and/or path (its ARN follows); AlreadyExists when the name is taken.

    Access keys, group memberships, policies and the login profile refer to the user's id and stay.
    """
    arn = user_arn(user.account, new_path, new_name)
    rename_named(conn, iam_users, user.id, "User", new_name, new_path, arn)
    return replace(user, name=new_name, path=new_path, arn=arn)


def set_user_tags(conn: Connection, user_id: int, tags: Mapping[str, str]) -> None:
    """Replace the user's tags (read them with `get_user(..., lock=True)` to change them safely)."""
    conn.execute(update(iam_users).where(iam_users.c.id == user_id).values(tags=dict(tags)))


def set_user_permissions_boundary(conn: Connection, user_id: int, policy_arn: str | None) -> bool:
    """Set (or with None remove) the user's permissions boundary; False when the user is gone."""
    stmt = update(iam_users).where(iam_users.c.id == user_id).values(permissions_boundary=policy_arn)
    return bool(conn.execute(stmt).rowcount)


def delete_user(conn: Connection, user: UserRecord) -> None:
    """Delete a user. NotFound if it is gone; InUse while anything still refers to it (access keys, login
    profile, group memberships).

    Dependents are not cascaded: IAM answers DeleteConflict until they are removed, and the foreign
    keys keep that true even against a concurrent CreateAccessKey.
    """
    stmt = iam_users.delete().where(iam_users.c.id == user.id)
    try:
        with conn.begin_nested():
            deleted = conn.execute(stmt).rowcount
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse(f"User {user.name} still has attached entities.") from None
        raise
    if deleted == 0:
        raise NotFound(f"The user with name {user.name} cannot be found.")


def _in_account(account: str) -> ColumnElement[bool]:
    return iam_users.c.account_id == account


def _one(conn: Connection, *conditions: ColumnElement[bool], lock: bool = False) -> UserRecord | None:
    row = find_one(conn, iam_users, *conditions, lock=lock)
    return None if row is None else user_from_row(row)


def user_from_row(row: RowMapping) -> UserRecord:
    return UserRecord(
        id=row["id"],
        account=row["account_id"],
        name=row["name"],
        path=row["path"],
        unique_id=row["unique_id"],
        arn=row["arn"],
        created_at=row["created_at"],
        permissions_boundary=row["permissions_boundary"],
        tags=MappingProxyType(row["tags"]),
    )


# -- shared by the repositories of IAM's named entities (users, groups, roles) --------------------------


def insert_named(conn: Connection, table: Table, values: Mapping[str, Any], noun: str) -> int:
    """Insert an entity row and return its id; AlreadyExists (`<noun> with name X already exists.`) when
    the account has one of that name in any letter case (the unique (account_id, name_lower) decides).
    """
    try:
        with conn.begin_nested():
            return int(conn.execute(insert(table).values(dict(values)).returning(table.c.id)).scalar_one())
    except IntegrityError as exc:
        if violation(exc).is_unique(table, "account_id", "name_lower"):
            raise AlreadyExists(f"{noun} with name {values['name']} already exists.") from None
        raise


def rename_named(
    conn: Connection, table: Table, entity_id: int, noun: str, new_name: str, new_path: str, new_arn: str
) -> None:
    """New name, path and ARN for an entity row; AlreadyExists when the name is taken, NotFound when gone."""
    stmt = (
        update(table)
        .where(table.c.id == entity_id)
        .values(name=new_name, name_lower=name_key(new_name), path=new_path, arn=new_arn)
    )
    try:
        with conn.begin_nested():
            changed = conn.execute(stmt).rowcount
    except IntegrityError as exc:
        if violation(exc).is_unique(table, "account_id", "name_lower"):
            raise AlreadyExists(f"{noun} with name {new_name} already exists.") from None
        raise
    if changed == 0:
        raise NotFound(f"The {noun.lower()} no longer exists.")


def find_one(conn: Connection, table: Table, *conditions: ColumnElement[bool], lock: bool = False) -> RowMapping | None:
    """The one row matching `conditions`; `lock=True` reads it `FOR UPDATE` (see `get_user`)."""
    stmt = select(table).where(and_(*conditions))
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).mappings().one_or_none()


def named_page(
    conn: Connection,
    table: Table,
    conditions: list[ColumnElement[bool]],
    path_prefix: str = "/",
    marker: str | None = None,
    max_items: int = 100,
    select_from: FromClause | None = None,
) -> tuple[list[RowMapping], str | None]:
    """One page of an IAM entity table (users, groups, roles) in name order, and the next page's marker.

    The marker is the last name's case-insensitive key; the next page starts after it. `select_from`
    joins another table in (group membership) while the rows stay `table`'s.
    """
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    conditions = list(conditions)
    if path_prefix != "/":
        # substr, not LIKE: paths may hold % and _, and SQLite's LIKE ignores letter case.
        conditions.append(func.substr(table.c.path, 1, len(path_prefix)) == path_prefix)
    if marker is not None:
        conditions.append(table.c.name_lower > marker)
    stmt = select(table).select_from(select_from if select_from is not None else table)
    stmt = stmt.where(*conditions).order_by(table.c.name_lower).limit(max_items + 1)
    rows = list(conn.execute(stmt).mappings())
    if len(rows) <= max_items:
        return rows, None
    return rows[:max_items], rows[max_items - 1]["name_lower"]
