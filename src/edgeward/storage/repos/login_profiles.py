"""Login profiles: an IAM user's console password, kept only as an argon2id hash.

Passwords enter this module and never leave it: not in records, not in errors, not in logs. Earlier hashes
are kept (newest first, at most `HISTORY_LIMIT`) for the password policy's PasswordReusePrevention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists, NotFound
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.tables_entities import iam_login_profiles

# The password policy's PasswordReusePrevention is at most 24: the current password and 23 before it.
HISTORY_LIMIT = 23


@dataclass(frozen=True, slots=True)
class LoginProfileRecord:
    user_id: int
    password_reset_required: bool
    created_at: datetime
    password_changed_at: datetime


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _decoy_hash() -> str:
    return _hasher().hash("edgeward decoy password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_login_profile(
    conn: Connection, user_id: int, password: str, password_reset_required: bool, *, now: datetime | None = None
) -> LoginProfileRecord:
    """Give the user a console password. AlreadyExists when it has one; NotFound when the user is gone."""
    created_at = now or clock.now()
    stmt = insert(iam_login_profiles).values(
        user_id=user_id,
        password_hash=hash_password(password),
        password_reset_required=password_reset_required,
        created_at=created_at,
        password_changed_at=created_at,
        password_history=[],
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(iam_login_profiles, "user_id"):
            raise AlreadyExists("The user already has a login profile.") from None
        if found.kind is Kind.FOREIGN_KEY:
            raise NotFound("The user no longer exists.") from None
        raise
    return LoginProfileRecord(user_id, password_reset_required, created_at, created_at)


def get_login_profile(conn: Connection, user_id: int, *, lock: bool = False) -> LoginProfileRecord | None:
    stmt = select(iam_login_profiles).where(iam_login_profiles.c.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def has_login_profile(conn: Connection, user_id: int) -> bool:
    stmt = select(iam_login_profiles.c.user_id).where(iam_login_profiles.c.user_id == user_id)
    return conn.execute(stmt).first() is not None


def set_password(
    conn: Connection,
    user_id: int,
    password: str,
    *,
    password_reset_required: bool | None = None,
    now: datetime | None = None,
) -> None:
    """Replace the password (the old hash joins the history); NotFound when the user has no profile.

    `password_reset_required` None leaves the flag as it is.
    """
    row = _hashes_for_update(conn, user_id)
    if row is None:
        raise NotFound("The user has no login profile.")
    current, history = row
    values: dict[str, object] = {
        "password_hash": hash_password(password),
        "password_changed_at": now or clock.now(),
        "password_history": [current, *history][:HISTORY_LIMIT],
    }
    if password_reset_required is not None:
        values["password_reset_required"] = password_reset_required
    conn.execute(update(iam_login_profiles).where(iam_login_profiles.c.user_id == user_id).values(values))


def set_password_reset_required(conn: Connection, user_id: int, required: bool) -> bool:
    """Change only the reset flag; False when the user has no profile."""
    stmt = (
        update(iam_login_profiles)
        .where(iam_login_profiles.c.user_id == user_id)
        .values(password_reset_required=required)
    )
    return bool(conn.execute(stmt).rowcount)


def delete_login_profile(conn: Connection, user_id: int) -> bool:
    """Remove the console password; False when the user had none."""
    stmt = iam_login_profiles.delete().where(iam_login_profiles.c.user_id == user_id)
    return bool(conn.execute(stmt).rowcount)


def verify_password(conn: Connection, user_id: int, password: str) -> bool:
    """True when `password` is the user's console password. A user without one costs the same time."""
    row = conn.execute(
        select(iam_login_profiles.c.password_hash).where(iam_login_profiles.c.user_id == user_id)
    ).first()
    if row is None:
        _matches(_decoy_hash(), password)
        return False
    return _matches(row[0], password)


def was_used_before(conn: Connection, user_id: int, password: str, count: int) -> bool:
    """True when `password` is among the user's last `count` passwords (the current one included)."""
    row = _hashes_for_update(conn, user_id)
    if row is None or count < 1:
        return False
    current, history = row
    return any(_matches(stored, password) for stored in [current, *history][:count])


def _hashes_for_update(conn: Connection, user_id: int) -> tuple[str, list[str]] | None:
    stmt = (
        select(iam_login_profiles.c.password_hash, iam_login_profiles.c.password_history)
        .where(iam_login_profiles.c.user_id == user_id)
        .with_for_update()
    )
    row = conn.execute(stmt).first()
    return None if row is None else (row[0], list(row[1]))


def _record(row: RowMapping) -> LoginProfileRecord:
    return LoginProfileRecord(
        user_id=row["user_id"],
        password_reset_required=bool(row["password_reset_required"]),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
    )
