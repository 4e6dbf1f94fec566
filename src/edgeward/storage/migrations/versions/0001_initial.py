"""Initial schema: settings, accounts, IAM users, access keys.

Revision ID: 0001
Revises:
Create Date: 2025-11-21

Written by hand with plain SQLAlchemy types (not the package's TypeDecorators), so this file keeps
meaning the same thing whatever later code does. Constraint names follow tables.NAMING_CONVENTION.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.CHAR(12), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
    )
    op.create_table(
        "iam_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_lower", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.Column("permissions_boundary", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_iam_users"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], name="fk_iam_users_account_id_accounts"),
        sa.UniqueConstraint("account_id", "name_lower", name="uq_iam_users_account_id_name_lower"),
        sa.UniqueConstraint("unique_id", name="uq_iam_users_unique_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.CHAR(12), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_used_at", nullable=True),
        sa.Column("last_used_service", sa.Text(), nullable=True),
        sa.Column("last_used_region", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_access_keys"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], name="fk_access_keys_account_id_accounts"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["iam_users.id"], name="fk_access_keys_user_id_iam_users", ondelete="RESTRICT"
        ),
        sa.UniqueConstraint("account_id", "owner", "slot", name="uq_access_keys_account_id_owner_slot"),
        sa.CheckConstraint("slot IN (1, 2)", name="ck_access_keys_slot"),
        sa.CheckConstraint("status IN ('Active', 'Inactive')", name="ck_access_keys_status"),
        sa.CheckConstraint(
            "(user_id IS NULL AND owner = 'root') OR "
            "(user_id IS NOT NULL AND owner = ('user:' || CAST(user_id AS VARCHAR)))",
            name="ck_access_keys_owner",
        ),
    )
    op.create_index("ix_access_keys_user_id", "access_keys", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_access_keys_user_id", table_name="access_keys")
    op.drop_table("access_keys")
    op.drop_table("iam_users")
    op.drop_table("accounts")
    op.drop_table("settings")
