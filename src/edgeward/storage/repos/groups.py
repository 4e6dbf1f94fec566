"""IAM groups and their members. Names are unique per account case-insensitively; the database enforces
it, and its foreign keys keep a group with members (or a user in a group) from being deleted.

The authorizer reads `group_ids_for_user` on every request of an IAM user.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from edgeward.core import arn as arns
from edgeward.core import clock, ids
from edgeward.storage.errors import InUse, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.repos.users import (
    UserRecord,
    find_one,
    insert_named,
    name_key,
    named_page,
    rename_named,
    user_from_row,
)
from edgeward.storage.tables import iam_users
from edgeward.storage.tables_entities import iam_group_members, iam_groups

GROUP_ID_PREFIX = "AGPA"


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    account: str
    name: str
    path: str
    unique_id: str
    arn: str
    created_at: datetime


def group_arn(account: str, path: str, name: str) -> str:
    return arns.iam_entity(account, "group", path, name)


def create_group(
    conn: Connection, account: str, name: str, path: str = "/", *, now: datetime | None = None
) -> GroupRecord:
    """Insert a group; AlreadyExists when the account has a group of that name in any letter case."""
    record = GroupRecord(
        id=0,
        account=account,
        name=name,
        path=path,
        unique_id=ids.unique_id(GROUP_ID_PREFIX),
        arn=group_arn(account, path, name),
        created_at=now or clock.now(),
    )
    values = {
        "account_id": account,
        "name": name,
        "name_lower": name_key(name),
        "path": path,
        "unique_id": record.unique_id,
        "arn": record.arn,
        "created_at": record.created_at,
    }
    return replace(record, id=insert_named(conn, iam_groups, values, "Group"))


def get_group(conn: Connection, account: str, name: str, *, lock: bool = False) -> GroupRecord | None:
    """The group of that name in any letter case. `lock=True`: as `users.get_user` (row lock for changes)."""
    return _one(conn, iam_groups.c.account_id == account, iam_groups.c.name_lower == name_key(name), lock=lock)


def get_group_by_id(conn: Connection, group_id: int) -> GroupRecord | None:
    return _one(conn, iam_groups.c.id == group_id)


def list_groups(
    conn: Connection,
    account: str,
    path_prefix: str = "/",
    marker: str | None = None,
    max_items: int = 100,
) -> tuple[list[GroupRecord], str | None]:
    """Groups in name order (case-insensitively), a page at a time, and the next page's marker."""
    conditions = [iam_groups.c.account_id == account]
    rows, next_marker = named_page(conn, iam_groups, conditions, path_prefix, marker, max_items)
    return [_record(row) for row in rows], next_marker


def rename_group(conn: Connection, group: GroupRecord, new_name: str, new_path: str) -> GroupRecord:
    """New name and/or path (the ARN follows); AlreadyExists when the name is taken, NotFound when gone."""
    arn = group_arn(group.account, new_path, new_name)
    rename_named(conn, iam_groups, group.id, "Group", new_name, new_path, arn)
    return replace(group, name=new_name, path=new_path, arn=arn)


def delete_group(conn: Connection, group: GroupRecord) -> None:
    """Delete a group; NotFound when gone, InUse while it has members (the foreign key holds that even
    against a concurrent AddUserToGroup). Policies have no foreign key: the caller checks them first.
    """
    try:
        with conn.begin_nested():
            deleted = conn.execute(iam_groups.delete().where(iam_groups.c.id == group.id)).rowcount
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse(f"Group {group.name} still has members.") from None
        raise
    if deleted == 0:
        raise NotFound(f"The group with name {group.name} cannot be found.")


# -- membership ------------------------------------------------------------------------------------


def add_member(conn: Connection, group: GroupRecord, user: UserRecord, *, now: datetime | None = None) -> bool:
    """Put the user in the group; False when it already was (IAM answers that with success too).

    NotFound when the group or the user no longer exists.
    """
    stmt = insert(iam_group_members).values(group_id=group.id, user_id=user.id, added_at=now or clock.now())
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(iam_group_members, "group_id", "user_id"):
            return False
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The group or the user no longer exists.") from None
        raise
    return True


def remove_member(conn: Connection, group: GroupRecord, user: UserRecord) -> bool:
    """Take the user out of the group; False when it was not in it."""
    stmt = iam_group_members.delete().where(
        iam_group_members.c.group_id == group.id, iam_group_members.c.user_id == user.id
    )
    return bool(conn.execute(stmt).rowcount)


def list_members(
    conn: Connection, group: GroupRecord, marker: str | None = None, max_items: int = 100
) -> tuple[list[UserRecord], str | None]:
    """The group's users in name order, a page at a time, and the next page's marker."""
    joined = iam_users.join(iam_group_members, iam_group_members.c.user_id == iam_users.c.id)
    conditions = [iam_group_members.c.group_id == group.id]
    rows, next_marker = named_page(conn, iam_users, conditions, "/", marker, max_items, select_from=joined)
    return [user_from_row(row) for row in rows], next_marker


def list_groups_for_user(
    conn: Connection, user: UserRecord, marker: str | None = None, max_items: int = 100
) -> tuple[list[GroupRecord], str | None]:
    """The user's groups in name order, a page at a time, and the next page's marker."""
    joined = iam_groups.join(iam_group_members, iam_group_members.c.group_id == iam_groups.c.id)
    conditions = [iam_group_members.c.user_id == user.id]
    rows, next_marker = named_page(conn, iam_groups, conditions, "/", marker, max_items, select_from=joined)
    return [_record(row) for row in rows], next_marker


def group_ids_for_user(conn: Connection, user_id: int) -> list[int]:
    """The database ids of the user's groups (the authorizer's view: their policies apply to the user)."""
    stmt = select(iam_group_members.c.group_id).where(iam_group_members.c.user_id == user_id)
    return sorted(row[0] for row in conn.execute(stmt))


def _one(conn: Connection, *conditions: ColumnElement[bool], lock: bool = False) -> GroupRecord | None:
    row = find_one(conn, iam_groups, *conditions, lock=lock)
    return None if row is None else _record(row)


def _record(row: RowMapping) -> GroupRecord:
    return GroupRecord(
        id=row["id"],
        account=row["account_id"],
        name=row["name"],
        path=row["path"],
        unique_id=row["unique_id"],
        arn=row["arn"],
        created_at=row["created_at"],
    )
