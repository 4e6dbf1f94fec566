"""IAM users. Names are unique per account case-insensitively; the database enforces it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from edgeward.core import arn as arns
from edgeward.core import clock, ids
from edgeward.storage.errors import AlreadyExists, InUse, NotFound
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
    return arns.iam(account, f"user{path}{name}")


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
    stmt = insert(iam_users).values(
        account_id=account,
        name=name,
        name_lower=name_key(name),
        path=path,
        unique_id=unique_id,
        arn=user_arn(account, path, name),
        created_at=created_at,
        permissions_boundary=permissions_boundary,
        tags=tag_map,
    )
    try:
        with conn.begin_nested():
            user_id = conn.execute(stmt.returning(iam_users.c.id)).scalar_one()
    except IntegrityError as exc:
        if violation(exc).is_unique(iam_users, "account_id", "name_lower"):
            raise AlreadyExists(f"User with name {name} already exists.") from None
        raise
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


def get_user(conn: Connection, account: str, name: str) -> UserRecord | None:
    return _one(conn, _in_account(account), iam_users.c.name_lower == name_key(name))


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
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    conditions = [_in_account(account)]
    if path_prefix != "/":
        # substr, not LIKE: paths may hold % and _, and SQLite's LIKE ignores letter case.
        conditions.append(func.substr(iam_users.c.path, 1, len(path_prefix)) == path_prefix)
    if marker is not None:
        conditions.append(iam_users.c.name_lower > marker)
    stmt = select(iam_users).where(*conditions).order_by(iam_users.c.name_lower).limit(max_items + 1)
    records = [_record(row) for row in conn.execute(stmt).mappings()]
    if len(records) <= max_items:
        return records, None
    page = records[:max_items]
    return page, name_key(page[-1].name)


def delete_user(conn: Connection, user: UserRecord) -> None:
    """Delete a user. NotFound if it is gone; InUse while anything still refers to it (access keys).

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


def _one(conn: Connection, *conditions: ColumnElement[bool]) -> UserRecord | None:
    row = conn.execute(select(iam_users).where(and_(*conditions))).mappings().one_or_none()
    return None if row is None else _record(row)


def _record(row: RowMapping) -> UserRecord:
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
