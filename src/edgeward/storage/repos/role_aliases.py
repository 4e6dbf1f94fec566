"""IoT role aliases: a name devices ask credentials for, pointing at an IAM role and a credential lifetime.

Each alias keeps the ARN it was created with: device policies name it with the region the client used, so
the credentials provider authorizes against the stored ARN rather than rebuilding one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists, NotFound
from edgeward.storage.integrity import violation
from edgeward.storage.tables_iot_policies import iot_role_aliases as aliases


@dataclass(frozen=True)
class RoleAliasRecord:
    alias: str
    arn: str
    account: str
    role_arn: str
    credential_duration_seconds: int
    created_at: datetime
    last_modified_at: datetime
    tags: Mapping[str, str]


def create_role_alias(
    conn: Connection,
    *,
    account: str,
    arn: str,
    alias: str,
    role_arn: str,
    credential_duration_seconds: int,
    tags: Mapping[str, str] | None,
    now: datetime | None = None,
) -> RoleAliasRecord:
    """Insert an alias; AlreadyExists when the account has one of that name (the primary key decides)."""
    created_at = now or clock.now()
    record = RoleAliasRecord(
        alias=alias,
        arn=arn,
        account=account,
        role_arn=role_arn,
        credential_duration_seconds=credential_duration_seconds,
        created_at=created_at,
        last_modified_at=created_at,
        tags=MappingProxyType(dict(tags or {})),
    )
    stmt = insert(aliases).values(
        account_id=account,
        alias=alias,
        arn=arn,
        role_arn=role_arn,
        credential_duration_seconds=credential_duration_seconds,
        created_at=created_at,
        last_modified_at=created_at,
        tags=dict(record.tags),
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError as exc:
        if violation(exc).is_unique(aliases, "account_id", "alias"):
            raise AlreadyExists(f"Role alias {alias} already exists.") from None
        raise
    return record


def get_role_alias(conn: Connection, account: str, alias: str, *, lock: bool = False) -> RoleAliasRecord | None:
    """The alias of that exact name; `lock=True` takes its row lock (PostgreSQL `FOR UPDATE`)."""
    stmt = select(aliases).where(aliases.c.account_id == account, aliases.c.alias == alias)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def list_role_aliases(
    conn: Connection, account: str, *, after: str | None, limit: int, ascending: bool = True
) -> list[str]:
    """Up to `limit` alias names in byte order (or reversed), after the name `after`."""
    stmt = select(aliases.c.alias).where(aliases.c.account_id == account)
    if after is not None:
        stmt = stmt.where(aliases.c.alias > after if ascending else aliases.c.alias < after)
    order = aliases.c.alias.asc() if ascending else aliases.c.alias.desc()
    return list(conn.execute(stmt.order_by(order).limit(limit)).scalars())


def update_role_alias(
    conn: Connection,
    record: RoleAliasRecord,
    *,
    role_arn: str | None = None,
    credential_duration_seconds: int | None = None,
    now: datetime | None = None,
) -> RoleAliasRecord:
    """Change the role and/or the duration (None keeps one); NotFound when the alias is gone."""
    changes: dict[str, Any] = {"last_modified_at": now or clock.now()}
    if role_arn is not None:
        changes["role_arn"] = role_arn
    if credential_duration_seconds is not None:
        changes["credential_duration_seconds"] = credential_duration_seconds
    stmt = (
        update(aliases).where(aliases.c.account_id == record.account, aliases.c.alias == record.alias).values(changes)
    )
    if not conn.execute(stmt).rowcount:
        raise NotFound(f"Role alias {record.alias} was not found.")
    return replace(record, **changes)


def delete_role_alias(conn: Connection, account: str, alias: str) -> bool:
    """False when there was no such alias."""
    stmt = aliases.delete().where(aliases.c.account_id == account, aliases.c.alias == alias)
    return bool(conn.execute(stmt).rowcount)


def _record(row: RowMapping) -> RoleAliasRecord:
    return RoleAliasRecord(
        alias=row["alias"],
        arn=row["arn"],
        account=row["account_id"],
        role_arn=row["role_arn"],
        credential_duration_seconds=row["credential_duration_seconds"],
        created_at=row["created_at"],
        last_modified_at=row["last_modified_at"],
        tags=MappingProxyType(dict(row["tags"])),
    )
