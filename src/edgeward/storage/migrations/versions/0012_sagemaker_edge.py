"""SageMaker Edge Manager device fleets and devices.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sagemaker_device_fleets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("name", _NAME_KEY, nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("role_arn", sa.Text(), nullable=True),
        sa.Column("output_config", sa.Text(), nullable=False),
        sa.Column("iot_role_alias", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_sagemaker_device_fleets_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sagemaker_device_fleets")),
        sa.UniqueConstraint(
            "account_id", "region", "name", name=op.f("uq_sagemaker_device_fleets_account_id_region_name")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sagemaker_devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("fleet_id", sa.Integer(), nullable=False),
        sa.Column("name", _NAME_KEY, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("iot_thing_name", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_heartbeat", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent_version", sa.Text(), nullable=True),
        sa.Column("models", sa.Text(), nullable=True),
        sa.Column("model_names", sa.Text(), nullable=True),
        sa.Column("agent_metrics", sa.Text(), nullable=True),
        sa.Column("deployment_result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_sagemaker_devices_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["fleet_id"],
            ["sagemaker_device_fleets.id"],
            name=op.f("fk_sagemaker_devices_fleet_id_sagemaker_device_fleets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sagemaker_devices")),
        sa.UniqueConstraint("account_id", "region", "name", name=op.f("uq_sagemaker_devices_account_id_region_name")),
    )
    op.create_index(op.f("ix_sagemaker_devices_fleet_id_name"), "sagemaker_devices", ["fleet_id", "name"])


def downgrade() -> None:
    op.drop_table("sagemaker_devices")
    op.drop_table("sagemaker_device_fleets")
