"""Managed-policy attachments of users, groups and roles.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "iam_policy_attachments",
        sa.Column("account_id", sa.CHAR(12), nullable=False),
        sa.Column("principal_type", sa.Text(), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("policy_arn", sa.Text(), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal_type", "principal_id", "policy_arn", name="pk_iam_policy_attachments"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name="fk_iam_policy_attachments_account_id_accounts"
        ),
        sa.CheckConstraint(
            "principal_type IN ('user', 'group', 'role')", name="ck_iam_policy_attachments_principal_type"
        ),
    )
    op.create_index("ix_iam_policy_attachments_policy_arn", "iam_policy_attachments", ["policy_arn"])


def downgrade() -> None:
    op.drop_index("ix_iam_policy_attachments_policy_arn", table_name="iam_policy_attachments")
    op.drop_table("iam_policy_attachments")
