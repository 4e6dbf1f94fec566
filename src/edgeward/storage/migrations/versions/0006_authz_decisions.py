"""The authorization decision log and the IAM generation counter.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authz_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("principal_arn", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("policy_type", sa.Text(), nullable=True),
        sa.Column("policy_id", sa.Text(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authz_decisions")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_authz_decisions_at"), "authz_decisions", ["at"], unique=False)
    op.create_index(
        op.f("ix_authz_decisions_principal_arn_at"), "authz_decisions", ["principal_arn", "at"], unique=False
    )
    op.create_index(op.f("ix_authz_decisions_allowed_at"), "authz_decisions", ["allowed", "at"], unique=False)
    op.create_table(
        "iam_generation",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_iam_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_generation")),
    )


def downgrade() -> None:
    op.drop_table("iam_generation")
    op.drop_table("authz_decisions")
