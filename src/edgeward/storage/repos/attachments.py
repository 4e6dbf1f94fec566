"""Managed policies attached to users, groups and roles, and the policies used as permissions boundaries.

Attachments are polymorphic rows without a foreign key: callers attach under the principal's row lock
(`get_user/get_group/get_role(..., lock=True)`), which the deletes of those principals take as well.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists
from edgeward.storage.tables import iam_policy_attachments as table
from edgeward.storage.tables import iam_users
from edgeward.storage.tables_entities import iam_roles


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


def count_for(conn: Connection, principal_type: str, principal_id: int) -> int:
    """How many managed policies the user, group or role has attached."""
    stmt = select(func.count()).where(table.c.principal_type == principal_type, table.c.principal_id == principal_id)
    return int(conn.execute(stmt).scalar_one())


def attached_for_many(conn: Connection, principal_type: str, principal_ids: Collection[int]) -> dict[int, list[str]]:
    """Principal id -> its attached policy ARNs (sorted), for several principals of one type in one query."""
    found: dict[int, list[str]] = {principal_id: [] for principal_id in principal_ids}
    if not principal_ids:
        return found
    stmt = (
        select(table.c.principal_id, table.c.policy_arn)
        .where(table.c.principal_type == principal_type, table.c.principal_id.in_(list(principal_ids)))
        .order_by(table.c.principal_id, table.c.policy_arn)
    )
    for principal_id, policy_arn in conn.execute(stmt):
        found.setdefault(principal_id, []).append(policy_arn)
    return found


def attachment_counts(conn: Connection, account: str) -> dict[str, int]:
    """Policy ARN -> how many users, groups and roles of `account` have it attached (AttachmentCount)."""
    stmt = select(table.c.policy_arn, func.count()).where(table.c.account_id == account).group_by(table.c.policy_arn)
    return {row[0]: int(row[1]) for row in conn.execute(stmt)}


def attachment_count(conn: Connection, account: str, policy_arn: str) -> int:
    stmt = select(func.count()).where(table.c.account_id == account, table.c.policy_arn == policy_arn)
    return int(conn.execute(stmt).scalar_one())


def entities_for_policy(conn: Connection, account: str, policy_arn: str) -> list[tuple[str, int]]:
    """(principal type, id) of every user, group and role of `account` the policy is attached to."""
    stmt = (
        select(table.c.principal_type, table.c.principal_id)
        .where(table.c.account_id == account, table.c.policy_arn == policy_arn)
        .order_by(table.c.principal_type, table.c.principal_id)
    )
    return [(row[0], row[1]) for row in conn.execute(stmt)]


# -- permissions boundaries (a column of iam_users / iam_roles) ------------------------------------------


def boundary_counts(conn: Connection, account: str) -> dict[str, int]:
    """Policy ARN -> how many users and roles of `account` use it as permissions boundary."""
    counts: dict[str, int] = {}
    for entity in (iam_users, iam_roles):
        column = entity.c.permissions_boundary
        stmt = select(column, func.count()).where(entity.c.account_id == account, column.is_not(None)).group_by(column)
        for policy_arn, count in conn.execute(stmt):
            counts[policy_arn] = counts.get(policy_arn, 0) + int(count)
    return counts


def boundary_count(conn: Connection, account: str, policy_arn: str) -> int:
    """How many users and roles of `account` use the policy as permissions boundary."""
    total = 0
    for entity in (iam_users, iam_roles):
        stmt = select(func.count()).where(entity.c.account_id == account, entity.c.permissions_boundary == policy_arn)
        total += int(conn.execute(stmt).scalar_one())
    return total


def boundary_holders(conn: Connection, account: str, policy_arn: str) -> list[tuple[str, int]]:
    """('user' | 'role', id) of every user and role of `account` whose permissions boundary is the policy."""
    found: list[tuple[str, int]] = []
    for kind, entity in (("user", iam_users), ("role", iam_roles)):
        stmt = (
            select(entity.c.id)
            .where(entity.c.account_id == account, entity.c.permissions_boundary == policy_arn)
            .order_by(entity.c.id)
        )
        found.extend((kind, row[0]) for row in conn.execute(stmt))
    return found
