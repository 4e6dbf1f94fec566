"""The account password policy: one JSON document per account, in the shape GetAccountPasswordPolicy returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.integrity import violation
from edgeward.storage.tables_entities import iam_password_policies


def get_password_policy(conn: Connection, account: str) -> dict[str, Any] | None:
    stmt = select(iam_password_policies.c.policy).where(iam_password_policies.c.account_id == account)
    row = conn.execute(stmt).first()
    return None if row is None else dict(row[0])


def put_password_policy(conn: Connection, account: str, policy: Mapping[str, Any]) -> None:
    """Create or replace the account's policy (two writers at once: the later one wins, as in IAM)."""
    document = dict(policy)
    where = iam_password_policies.c.account_id == account
    if conn.execute(update(iam_password_policies).where(where).values(policy=document)).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(iam_password_policies).values(account_id=account, policy=document))
    except IntegrityError as exc:  # a concurrent first write inserted the row
        if not violation(exc).is_unique(iam_password_policies, "account_id"):
            raise
        conn.execute(update(iam_password_policies).where(where).values(policy=document))


def delete_password_policy(conn: Connection, account: str) -> bool:
    """False when the account had no policy."""
    stmt = iam_password_policies.delete().where(iam_password_policies.c.account_id == account)
    return bool(conn.execute(stmt).rowcount)
