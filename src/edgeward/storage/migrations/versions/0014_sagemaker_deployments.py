"""SageMaker Edge deployment plans, stages, device deployments and registered model packages.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sagemaker_edge_packaging_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("name", _NAME_KEY, nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("model_name", _NAME_KEY, nullable=False),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("model_artifact", sa.Text(), nullable=False),
        sa.Column("sha1", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_sagemaker_edge_packaging_jobs_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sagemaker_edge_packaging_jobs")),
        sa.UniqueConstraint(
            "account_id", "region", "name", name=op.f("uq_sagemaker_edge_packaging_jobs_account_id_region_name")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sagemaker_edge_deployment_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("name", _NAME_KEY, nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("fleet_id", sa.Integer(), nullable=False),
        sa.Column("fleet_name", _NAME_KEY, nullable=False),
        sa.Column("model_configs", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_sagemaker_edge_deployment_plans_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["fleet_id"],
            ["sagemaker_device_fleets.id"],
            name=op.f("fk_sagemaker_edge_deployment_plans_fleet_id_sagemaker_device_fleets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sagemaker_edge_deployment_plans")),
        sa.UniqueConstraint(
            "account_id", "region", "name", name=op.f("uq_sagemaker_edge_deployment_plans_account_id_region_name")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_sagemaker_edge_deployment_plans_fleet_id"), "sagemaker_edge_deployment_plans", ["fleet_id"]
    )
    op.create_table(
        "sagemaker_edge_deployment_stages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("name", _NAME_KEY, nullable=False),
        sa.Column("selection", sa.Text(), nullable=False),
        sa.Column("failure_policy", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("definitions", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('READYTODEPLOY', 'STARTED', 'STOPPED')", name=op.f("ck_sagemaker_edge_deployment_stages_state")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["sagemaker_edge_deployment_plans.id"],
            name=op.f("fk_sagemaker_edge_deployment_stages_plan_id_sagemaker_edge_deployment_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sagemaker_edge_deployment_stages")),
        sa.UniqueConstraint("plan_id", "name", name=op.f("uq_sagemaker_edge_deployment_stages_plan_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sagemaker_edge_device_deployments",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('INPROGRESS', 'DEPLOYED', 'FAILED', 'STOPPED')",
            name=op.f("ck_sagemaker_edge_device_deployments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["sagemaker_devices.id"],
            name=op.f("fk_sagemaker_edge_device_deployments_device_id_sagemaker_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["sagemaker_edge_deployment_stages.id"],
            name=op.f("fk_sagemaker_edge_device_deployments_stage_id_sagemaker_edge_deployment_stages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stage_id", "device_id", name=op.f("pk_sagemaker_edge_device_deployments")),
    )
    op.create_index(
        op.f("ix_sagemaker_edge_device_deployments_device_id_status"),
        "sagemaker_edge_device_deployments",
        ["device_id", "status"],
    )


def downgrade() -> None:
    op.drop_table("sagemaker_edge_device_deployments")
    op.drop_table("sagemaker_edge_deployment_stages")
    op.drop_table("sagemaker_edge_deployment_plans")
    op.drop_table("sagemaker_edge_packaging_jobs")
