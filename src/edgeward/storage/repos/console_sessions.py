"""Console sessions: created at sign-in, looked up by the cookie's token, ended at sign-out or expiry."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from edgeward.core import clock
from edgeward.storage.tables_console import console_sessions as table


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    account: str
    user_id: int | None
    access_key_id: str | None
    csrf_token: str
    created_at: datetime
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    conn: Connection, account: str, user_id: int | None, access_key_id: str | None, lifetime: timedelta
) -> tuple[str, ConsoleSession]:
    """A new session; returns the cookie token (stored only as its hash) and the session."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session = ConsoleSession(account, user_id, access_key_id, secrets.token_urlsafe(32), now, now + lifetime)
    conn.execute(
        insert(table).values(
            token_sha256=_digest(token),
            account_id=account,
            user_id=user_id,
            access_key_id=access_key_id,
            csrf_token=session.csrf_token,
            created_at=session.created_at,
            expires_at=session.expires_at,
        )
    )
    return token, session


def get_session(conn: Connection, token: str, now: datetime | None = None) -> ConsoleSession | None:
    """The session behind a cookie token, unless it expired."""
    row = conn.execute(select(table).where(table.c.token_sha256 == _digest(token))).mappings().first()
    if row is None or row["expires_at"] <= (now or clock.now()):
        return None
    return ConsoleSession(
        row["account_id"], row["user_id"], row["access_key_id"], row["csrf_token"], row["created_at"], row["expires_at"]
    )


def delete_session(conn: Connection, token: str) -> None:
    conn.execute(delete(table).where(table.c.token_sha256 == _digest(token)))


def purge_expired(conn: Connection, now: datetime | None = None) -> int:
    return conn.execute(delete(table).where(table.c.expires_at <= (now or clock.now()))).rowcount
