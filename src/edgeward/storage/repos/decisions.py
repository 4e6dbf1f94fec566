"""The authorization decision log (write in batches, prune, query) and the IAM generation counter."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from edgeward.storage.fastpath import HotQuery
from edgeward.storage.tables_decisions import authz_decisions as table
from edgeward.storage.tables_decisions import iam_generation

COLUMNS = (
    "at",
    "account_id",
    "request_id",
    "principal_arn",
    "action",
    "resource",
    "allowed",
    "policy_type",
    "policy_id",
    "statement",
    "reason",
)


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: int
    at: datetime
    account_id: str
    request_id: str
    principal_arn: str
    action: str
    resource: str
    allowed: bool
    policy_type: str | None
    policy_id: str | None
    statement: str | None
    reason: str


def insert_decisions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert a batch (one executemany); each row has every name in `COLUMNS`."""
    if rows:
        conn.execute(insert(table), list(rows))


def prune_decisions(conn: Connection, *, older_than: datetime, keep_rows: int, limit: int = 5_000) -> int:
    """Delete up to `limit` rows past retention: beyond the newest `keep_rows` ids first, then those decided
    before `older_than`. Returns how many; call again (in a new transaction) while it returns `limit`.

    Ids are never reused, so at most `keep_rows` rows have an id in (max - keep_rows, max]: the bound holds
    without counting rows (which PostgreSQL can only do by scanning). Small chunks keep each transaction
    short: on SQLite a delete holds the one write lock that requests wait for.
    """
    deleted = 0
    newest = conn.execute(select(func.max(table.c.id))).scalar_one_or_none()
    if newest is not None and newest > keep_rows:
        beyond = select(table.c.id).where(table.c.id <= newest - keep_rows).order_by(table.c.id).limit(limit)
        deleted += conn.execute(delete(table).where(table.c.id.in_(beyond))).rowcount or 0
    if deleted < limit:
        old = select(table.c.id).where(table.c.at < older_than).order_by(table.c.at).limit(limit - deleted)
        deleted += conn.execute(delete(table).where(table.c.id.in_(old))).rowcount or 0
    return deleted


def query_decisions(
    conn: Connection,
    *,
    principal: str | None = None,
    action: str | None = None,
    denied_only: bool = False,
    since: datetime | None = None,
    limit: int = 50,
) -> list[DecisionRecord]:
    """The newest decisions first. `principal` matches the ARN or its last part (user or session name);
    `action` is case-insensitive (`iam:getuser` finds `iam:GetUser`)."""
    stmt = select(table).order_by(table.c.at.desc(), table.c.id.desc()).limit(limit)
    if principal:
        stmt = stmt.where(
            (table.c.principal_arn == principal)
            | table.c.principal_arn.endswith(f"/{principal}", autoescape=True)
            | table.c.principal_arn.endswith(f":{principal}", autoescape=True)
        )
    if action:
        stmt = stmt.where(func.lower(table.c.action) == action.lower())
    if denied_only:
        stmt = stmt.where(table.c.allowed.is_(False))
    if since is not None:
        stmt = stmt.where(table.c.at >= since)
    return [DecisionRecord(**row._mapping) for row in conn.execute(stmt)]


# -- the IAM generation ------------------------------------------------------------------------------

_GENERATION = HotQuery(select(iam_generation.c.generation).where(iam_generation.c.id == bindparam("row")))


def current_generation(conn: Connection) -> int:
    """The IAM generation (0 before the first IAM write). One primary-key lookup, no ORM machinery."""
    row = _GENERATION.first(conn, {"row": 1})
    return 0 if row is None else int(row[0])


def bump_generation(conn: Connection) -> int:
    """Count one IAM change, in the caller's transaction (the row lock is held until it commits).
    Returns the new generation.

    A missing row (a fresh or wiped database) starts at the current time in microseconds, so the value
    after a dev-mode wipe never repeats one a cache saw before it.
    """
    start = time.time_ns() // 1000
    stmt = _insert(conn).values(id=1, generation=start)
    upsert = stmt.on_conflict_do_update(
        index_elements=[iam_generation.c.id], set_={"generation": iam_generation.c.generation + 1}
    )
    return int(conn.execute(upsert.returning(iam_generation.c.generation)).scalar_one())


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(iam_generation)
    return sqlite.insert(iam_generation)
