"""Customer managed policies, their versions, and inline policies (owned by the IAM-policies work).

Attachments of managed policies live in `tables.iam_policy_attachments`. AWS managed policies are not rows:
they are a fixed catalogue in code (`services/iam/managed.py`).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)

from edgeward.storage.tables import ACCOUNT_ID, metadata, named_entity_columns
from edgeward.storage.types import JsonText, UtcDateTime

iam_managed_policies = Table(
    "iam_managed_policies",
    metadata,
    *named_entity_columns(),
    Column("description", Text, nullable=True),
    Column("default_version_id", Text, nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("tags", JsonText, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
    UniqueConstraint("arn"),
    UniqueConstraint("unique_id"),
    sqlite_autoincrement=True,
)

# At most five versions per policy, held by the database as for access keys: each version takes a slot 1..5.
iam_policy_versions = Table(
    "iam_policy_versions",
    metadata,
    Column("policy_id", Integer, ForeignKey("iam_managed_policies.id", ondelete="CASCADE"), primary_key=True),
    Column("version_id", Text, primary_key=True),
    Column("slot", SmallInteger, nullable=False),
    Column("document", Text, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("policy_id", "slot"),
    CheckConstraint("slot BETWEEN 1 AND 5", name="slot"),
)

# Inline policies of users, groups and roles (polymorphic like attachments).
iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("principal_type", Text, primary_key=True),
    Column("principal_id", Integer, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("principal_type IN ('user', 'group', 'role')", name="principal_type"),
)
