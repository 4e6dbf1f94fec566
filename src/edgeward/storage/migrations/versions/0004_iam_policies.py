"""Customer managed policies, their versions, and inline policies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "iam_managed_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_lower", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_version_id", sa.Text(), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iam_managed_policies_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_managed_policies")),
        sa.UniqueConstraint("account_id", "name_lower", name=op.f("uq_iam_managed_policies_account_id_name_lower")),
        sa.UniqueConstraint("arn", name=op.f("uq_iam_managed_policies_arn")),
        sa.UniqueConstraint("unique_id", name=op.f("uq_iam_managed_policies_unique_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "iam_policy_versions",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Text(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("slot BETWEEN 1 AND 5", name=op.f("ck_iam_policy_versions_slot")),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["iam_managed_policies.id"],
            name=op.f("fk_iam_policy_versions_policy_id_iam_managed_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("policy_id", "version_id", name=op.f("pk_iam_policy_versions")),
        sa.UniqueConstraint("policy_id", "slot", name=op.f("uq_iam_policy_versions_policy_id_slot")),
    )
    op.create_table(
        "iam_inline_policies",
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("principal_type", sa.Text(), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "principal_type IN ('user', 'group', 'role')", name=op.f("ck_iam_inline_policies_principal_type")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iam_inline_policies_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("principal_type", "principal_id", "name", name=op.f("pk_iam_inline_policies")),
    )


def downgrade() -> None:
    op.drop_table("iam_inline_policies")
    op.drop_table("iam_policy_versions")
    op.drop_table("iam_managed_policies")
