"""The installation's AWS account (one per installation for now)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock, ids
from edgeward.storage.errors import AlreadyExists
from edgeward.storage.integrity import violation
from edgeward.storage.tables import accounts, settings

# The settings row naming the installation's account. Its primary key is what keeps two nodes that
# bootstrap at once from creating two accounts.
INSTALLATION_ACCOUNT_KEY = "installation.account_id"


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account_id: str
    created_at: datetime


_SELECT_INSTALLATION_ACCOUNT = select(accounts).where(
    accounts.c.account_id
    == select(settings.c.value).where(settings.c.key == INSTALLATION_ACCOUNT_KEY).scalar_subquery()
)


def get_account(conn: Connection) -> AccountRecord | None:
    """The installation's account, or None before bootstrap."""
    row = conn.execute(_SELECT_INSTALLATION_ACCOUNT).mappings().one_or_none()
    return None if row is None else _record(row)


def create_account(conn: Connection, account_id: str, *, now: datetime | None = None) -> AccountRecord:
    """Create the installation's account; AlreadyExists if the installation already has one."""
    if not ids.is_account_id(account_id):
        raise ValueError("an account id is 12 digits")
    created_at = now or clock.now()
    try:
        with conn.begin_nested():
            conn.execute(insert(settings).values(key=INSTALLATION_ACCOUNT_KEY, value=account_id))
            conn.execute(insert(accounts).values(account_id=account_id, created_at=created_at))
    except IntegrityError as exc:
        if violation(exc).is_unique(settings, "key") or violation(exc).is_unique(accounts, "account_id"):
            raise AlreadyExists("this installation already has an account") from None
        raise
    return AccountRecord(account_id, created_at)


def ensure_account(conn: Connection, candidate_id: str) -> AccountRecord:
    """The installation's account, creating it with `candidate_id` if there is none yet.

    When two nodes bootstrap at once, one creates its candidate and the other adopts it.
    """
    existing = get_account(conn)
    if existing is not None:
        return existing
    try:
        return create_account(conn, candidate_id)
    except AlreadyExists:
        adopted = get_account(conn)
        if adopted is None:
            raise
        return adopted


def _record(row: RowMapping) -> AccountRecord:
    return AccountRecord(account_id=row["account_id"], created_at=row["created_at"])
