"""Managed policies attached to users, groups and roles."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists
from edgeward.storage.tables import iam_policy_attachments as table


def attach_policy(conn: Connection, account: str, principal_type: str, principal_id: int, policy_arn: str) -> None:
    """Attach once; attaching an attached policy again is a no-op, as in IAM."""
    if policy_arn in attached_policy_arns(conn, principal_type, principal_id):
        return
    try:
        with conn.begin_nested():
            conn.execute(
                table.insert().values(
                    account_id=account,
                    principal_type=principal_type,
                    principal_id=principal_id,
                    policy_arn=policy_arn,
                    attached_at=clock.now(),
                )
            )
    except IntegrityError as exc:  # a concurrent attach of the same policy won the race
        raise AlreadyExists(policy_arn) from exc


def detach_policy(conn: Connection, principal_type: str, principal_id: int, policy_arn: str) -> bool:
    result = conn.execute(
        delete(table).where(
            table.c.principal_type == principal_type,
            table.c.principal_id == principal_id,
            table.c.policy_arn == policy_arn,
        )
    )
    return bool(result.rowcount)


def attached_policy_arns(conn: Connection, principal_type: str, principal_id: int) -> list[str]:
    rows = conn.execute(
        select(table.c.policy_arn)
        .where(table.c.principal_type == principal_type, table.c.principal_id == principal_id)
        .order_by(table.c.policy_arn)
    )
    return [row[0] for row in rows]
