"""IoT things, thing types, static thing groups, principals attached to things.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _name() -> Any:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _account(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.account_id"], name=op.f(f"fk_{table}_account_id_accounts")
    )


def upgrade() -> None:
    op.create_table(
        "iot_thing_types",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("name", _name(), nullable=False),
        sa.Column("thing_type_id", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("deprecated", sa.Boolean(), nullable=False),
        sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        _account("iot_thing_types"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iot_thing_types")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_iot_thing_types_account_id_name")),
        sa.UniqueConstraint("thing_type_id", name=op.f("uq_iot_thing_types_thing_type_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "iot_things",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("name", _name(), nullable=False),
        sa.Column("thing_id", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_iot_things_version")),
        _account("iot_things"),
        sa.ForeignKeyConstraint(
            ["type_id"], ["iot_thing_types.id"], name=op.f("fk_iot_things_type_id_iot_thing_types"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iot_things")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_iot_things_account_id_name")),
        sa.UniqueConstraint("thing_id", name=op.f("uq_iot_things_thing_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_iot_things_type_id"), "iot_things", ["type_id"], unique=False)
    op.create_table(
        "iot_thing_attributes",
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", _name(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["iot_things.id"],
            name=op.f("fk_iot_thing_attributes_thing_id_iot_things"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thing_id", "name", name=op.f("pk_iot_thing_attributes")),
    )
    op.create_index(op.f("ix_iot_thing_attributes_name_value"), "iot_thing_attributes", ["name", "value"], unique=False)
    op.create_table(
        "iot_thing_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("name", _name(), nullable=False),
        sa.Column("thing_group_id", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_iot_thing_groups_version")),
        _account("iot_thing_groups"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["iot_thing_groups.id"], name=op.f("fk_iot_thing_groups_parent_id_iot_thing_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iot_thing_groups")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_iot_thing_groups_account_id_name")),
        sa.UniqueConstraint("thing_group_id", name=op.f("uq_iot_thing_groups_thing_group_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_iot_thing_groups_parent_id"), "iot_thing_groups", ["parent_id"], unique=False)
    op.create_table(
        "iot_thing_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["iot_thing_groups.id"],
            name=op.f("fk_iot_thing_group_members_group_id_iot_thing_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["iot_things.id"],
            name=op.f("fk_iot_thing_group_members_thing_id_iot_things"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "thing_id", name=op.f("pk_iot_thing_group_members")),
    )
    op.create_index(op.f("ix_iot_thing_group_members_thing_id"), "iot_thing_group_members", ["thing_id"], unique=False)
    op.create_table(
        "iot_thing_principals",
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("principal", _name(), nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("principal_type", sa.Text(), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "principal_type IN ('EXCLUSIVE_THING', 'NON_EXCLUSIVE_THING')",
            name=op.f("ck_iot_thing_principals_principal_type"),
        ),
        _account("iot_thing_principals"),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["iot_things.id"],
            name=op.f("fk_iot_thing_principals_thing_id_iot_things"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("thing_id", "principal", name=op.f("pk_iot_thing_principals")),
    )
    op.create_index(
        op.f("ix_iot_thing_principals_account_id_principal"),
        "iot_thing_principals",
        ["account_id", "principal"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("iot_thing_principals")
    op.drop_table("iot_thing_group_members")
    op.drop_table("iot_thing_groups")
    op.drop_table("iot_thing_attributes")
    op.drop_table("iot_things")
    op.drop_table("iot_thing_types")
