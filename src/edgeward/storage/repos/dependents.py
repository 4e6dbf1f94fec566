"""What still hangs off a user, group or role: the things IAM makes you remove before deleting it.

Each function answers with one query (EXISTS subqueries), in the order IAM reports the conflicts.
Attachments and inline policies are polymorphic rows with no foreign key, so callers ask under the
entity's row lock (`get_user/get_group/get_role(..., lock=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Exists, exists, select

from edgeward.storage.tables import access_keys, iam_policy_attachments
from edgeward.storage.tables_entities import iam_group_members, iam_login_profiles
from edgeward.storage.tables_policies import iam_inline_policies


@dataclass(frozen=True, slots=True)
class Dependents:
    login_profile: bool = False
    access_keys: bool = False
    group_memberships: bool = False  # a user in groups, or a group with users
    attached_policies: bool = False
    inline_policies: bool = False


def user_dependents(conn: Connection, user_id: int) -> Dependents:
    return _ask(
        conn,
        login_profile=exists().where(iam_login_profiles.c.user_id == user_id),
        access_keys=exists().where(access_keys.c.user_id == user_id),
        group_memberships=exists().where(iam_group_members.c.user_id == user_id),
        attached_policies=_attached("user", user_id),
        inline_policies=_inline("user", user_id),
    )


def group_dependents(conn: Connection, group_id: int) -> Dependents:
    return _ask(
        conn,
        group_memberships=exists().where(iam_group_members.c.group_id == group_id),
        attached_policies=_attached("group", group_id),
        inline_policies=_inline("group", group_id),
    )


def role_dependents(conn: Connection, role_id: int) -> Dependents:
    return _ask(conn, attached_policies=_attached("role", role_id), inline_policies=_inline("role", role_id))


def _attached(principal_type: str, principal_id: int) -> Exists:
    return exists().where(
        iam_policy_attachments.c.principal_type == principal_type,
        iam_policy_attachments.c.principal_id == principal_id,
    )


def _inline(principal_type: str, principal_id: int) -> Exists:
    return exists().where(
        iam_inline_policies.c.principal_type == principal_type,
        iam_inline_policies.c.principal_id == principal_id,
    )


def _ask(conn: Connection, **checks: Exists) -> Dependents:
    row: Any = conn.execute(select(*(check.label(name) for name, check in checks.items()))).mappings().one()
    return Dependents(**{name: bool(row[name]) for name in checks})
