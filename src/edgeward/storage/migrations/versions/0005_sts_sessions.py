"""STS temporary credentials.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sts_sessions",
        sa.Column("access_key_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("token_sha256", sa.Text(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("session_name", sa.Text(), nullable=True),
        sa.Column("source_identity", sa.Text(), nullable=True),
        sa.Column("session_policy", sa.Text(), nullable=True),
        sa.Column("session_policy_arns", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("transitive_tag_keys", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("mfa", sa.Boolean(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('assumed-role', 'session-token', 'federated-user')", name=op.f("ck_sts_sessions_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'assumed-role' AND role_id IS NOT NULL AND user_id IS NULL) OR "
            "(kind <> 'assumed-role' AND role_id IS NULL)",
            name=op.f("ck_sts_sessions_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_sts_sessions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["iam_roles.id"], name=op.f("fk_sts_sessions_role_id_iam_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["iam_users.id"], name=op.f("fk_sts_sessions_user_id_iam_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("access_key_id", name=op.f("pk_sts_sessions")),
    )
    op.create_index(op.f("ix_sts_sessions_expires_at"), "sts_sessions", ["expires_at"], unique=False)
    op.create_index(op.f("ix_sts_sessions_role_id"), "sts_sessions", ["role_id"], unique=False)
    op.create_index(op.f("ix_sts_sessions_user_id"), "sts_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("sts_sessions")
