"""IAM groups, group membership, roles, login profiles and password policies.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "iam_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_lower", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iam_groups_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_groups")),
        sa.UniqueConstraint("account_id", "name_lower", name=op.f("uq_iam_groups_account_id_name_lower")),
        sa.UniqueConstraint("unique_id", name=op.f("uq_iam_groups_unique_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "iam_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["iam_groups.id"], name=op.f("fk_iam_group_members_group_id_iam_groups"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["iam_users.id"], name=op.f("fk_iam_group_members_user_id_iam_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_iam_group_members")),
    )
    op.create_index(op.f("ix_iam_group_members_user_id"), "iam_group_members", ["user_id"])
    op.create_table(
        "iam_roles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_lower", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("max_session_duration", sa.Integer(), nullable=False),
        sa.Column("trust_policy", sa.Text(), nullable=False),
        sa.Column("permissions_boundary", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_region", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "max_session_duration BETWEEN 3600 AND 43200", name=op.f("ck_iam_roles_max_session_duration")
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], name=op.f("fk_iam_roles_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iam_roles")),
        sa.UniqueConstraint("account_id", "name_lower", name=op.f("uq_iam_roles_account_id_name_lower")),
        sa.UniqueConstraint("unique_id", name=op.f("uq_iam_roles_unique_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "iam_login_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("password_reset_required", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_history", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["iam_users.id"], name=op.f("fk_iam_login_profiles_user_id_iam_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_iam_login_profiles")),
    )
    op.create_table(
        "iam_password_policies",
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iam_password_policies_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_iam_password_policies")),
    )


def downgrade() -> None:
    op.drop_table("iam_password_policies")
    op.drop_table("iam_login_profiles")
    op.drop_table("iam_roles")
    op.drop_index(op.f("ix_iam_group_members_user_id"), table_name="iam_group_members")
    op.drop_table("iam_group_members")
    op.drop_table("iam_groups")
