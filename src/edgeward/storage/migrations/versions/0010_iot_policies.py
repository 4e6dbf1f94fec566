"""IoT policies, their versions and targets; role aliases.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _name_key() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "iot_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("name", _name_key(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("default_version", sa.Integer(), nullable=False),
        sa.Column("next_version", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iot_policies_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iot_policies")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_iot_policies_account_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "iot_policy_versions",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("slot BETWEEN 1 AND 5", name=op.f("ck_iot_policy_versions_slot")),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["iot_policies.id"],
            name=op.f("fk_iot_policy_versions_policy_id_iot_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("policy_id", "version", name=op.f("pk_iot_policy_versions")),
        sa.UniqueConstraint("policy_id", "slot", name=op.f("uq_iot_policy_versions_policy_id_slot")),
    )
    op.create_table(
        "iot_policy_targets",
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("target_arn", sa.Text(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("slot BETWEEN 1 AND 10", name=op.f("ck_iot_policy_targets_slot")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iot_policy_targets_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["iot_policies.id"],
            name=op.f("fk_iot_policy_targets_policy_id_iot_policies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("policy_id", "target_arn", name=op.f("pk_iot_policy_targets")),
        sa.UniqueConstraint(
            "account_id", "target_arn", "slot", name=op.f("uq_iot_policy_targets_account_id_target_arn_slot")
        ),
    )
    op.create_table(
        "iot_role_aliases",
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("alias", _name_key(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("role_arn", sa.Text(), nullable=False),
        sa.Column("credential_duration_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "credential_duration_seconds BETWEEN 900 AND 43200", name=op.f("ck_iot_role_aliases_duration")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iot_role_aliases_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "alias", name=op.f("pk_iot_role_aliases")),
    )


def downgrade() -> None:
    op.drop_table("iot_role_aliases")
    op.drop_table("iot_policy_targets")
    op.drop_table("iot_policy_versions")
    op.drop_table("iot_policies")
