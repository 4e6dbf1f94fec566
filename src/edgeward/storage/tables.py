"""The schema as SQLAlchemy Core tables (no ORM: the hot path wants plain statements).

Every schema change needs a migration in `storage/migrations/versions/` too; a test compares the
migrated database with this metadata, so the two cannot drift apart silently.

Conventions:
- constraint names come from `NAMING_CONVENTION` (deterministic on both databases, and what the
  integrity-error mapping and SQLite batch migrations rely on);
- timestamps are `UtcDateTime` (aware UTC in and out); JSON is text (`JsonText`);
- IAM names are unique case-insensitively: store `name_lower` next to `name` and put the unique
  constraint on it, which works the same on SQLite and PostgreSQL;
- integer ids are never reused (SQLite AUTOINCREMENT, PostgreSQL sequences), because principals and
  sessions refer to them;
- deleting a row that still has dependents fails (RESTRICT): IAM refuses such deletes with
  DeleteConflict, and the database keeps that true even when a concurrent request adds a dependent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CHAR,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)

from edgeward.storage.types import JsonText, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ACCOUNT_ID = CHAR(12)
# Byte order for names on both databases: listings sort and paginate alike, whatever the server locale.
NAME_KEY = Text().with_variant(Text(collation="C"), "postgresql")


def named_entity_columns() -> list[Column[Any]]:
    """The columns every IAM named entity starts with (users, groups, roles, managed policies): a fresh set per
    table, unique case-insensitively through `name_lower`."""
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
        Column("name", Text, nullable=False),
        Column("name_lower", NAME_KEY, nullable=False),
        Column("path", Text, nullable=False),
        Column("unique_id", Text, nullable=False),
        Column("arn", Text, nullable=False),
    ]


settings = Table(
    "settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", ACCOUNT_ID, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

iam_users = Table(
    "iam_users",
    metadata,
    *named_entity_columns(),
    Column("created_at", UtcDateTime, nullable=False),
    Column("permissions_boundary", Text, nullable=True),
    Column("tags", JsonText, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
    UniqueConstraint("unique_id"),
    sqlite_autoincrement=True,
)

# `owner` is `root` or `user:<iam_users.id>`: unlike user_id it is never NULL, so the unique
# (account_id, owner, slot) caps root's keys as well as each user's at two, under any concurrency.
access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", Text, primary_key=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("owner", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("iam_users.id", ondelete="RESTRICT"), nullable=True),
    Column("slot", SmallInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("last_used_service", Text, nullable=True),
    Column("last_used_region", Text, nullable=True),
    UniqueConstraint("account_id", "owner", "slot"),
    CheckConstraint("slot IN (1, 2)", name="slot"),
    CheckConstraint("status IN ('Active', 'Inactive')", name="status"),
    CheckConstraint(
        "(user_id IS NULL AND owner = 'root') OR "
        "(user_id IS NOT NULL AND owner = ('user:' || CAST(user_id AS VARCHAR)))",
        name="owner",
    ),
    Index(None, "user_id"),
)

# Managed policies attached to a user, group or role (`principal_type`, `principal_id`). Polymorphic, so
# no foreign key: the IAM handlers refuse to delete an entity that still has attachments.
iam_policy_attachments = Table(
    "iam_policy_attachments",
    metadata,
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("principal_type", Text, nullable=False),
    Column("principal_id", Integer, nullable=False),
    Column("policy_arn", Text, nullable=False),
    Column("attached_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("principal_type", "principal_id", "policy_arn"),
    CheckConstraint("principal_type IN ('user', 'group', 'role')", name="principal_type"),
    Index(None, "policy_arn"),
)

# The tables of later areas live in their own modules on the same metadata; importing them here keeps
# `tables.metadata` complete for migrations checks and wipes.
from edgeward.storage import (  # noqa: E402, F401
    tables_console,
    tables_decisions,
    tables_deeplens,
    tables_entities,
    tables_iot_certs,
    tables_iot_policies,
    tables_iot_things,
    tables_pki,
    tables_policies,
    tables_s3,
    tables_sagemaker,
    tables_sagemaker_deploy,
    tables_sessions,
)
