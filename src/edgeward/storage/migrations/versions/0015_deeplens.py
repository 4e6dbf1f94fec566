"""DeepLens-style device registrations.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "deeplens_devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("name", _NAME_KEY, nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("thing_name", sa.Text(), nullable=False),
        sa.Column("certificate_id", sa.Text(), nullable=False),
        sa.Column("certificate_arn", sa.Text(), nullable=False),
        sa.Column("policy_name", sa.Text(), nullable=False),
        sa.Column("role_alias", sa.Text(), nullable=False),
        sa.Column("role_alias_arn", sa.Text(), nullable=False),
        sa.Column("fleet_name", sa.Text(), nullable=False),
        sa.Column("sagemaker_device_name", sa.Text(), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("private_key_ciphertext", sa.Text(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bundle_downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_authenticated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "private_key_ciphertext IS NULL OR bundle_downloaded_at IS NULL",
            name=op.f("ck_deeplens_devices_one_download"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_deeplens_devices_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deeplens_devices")),
        sa.UniqueConstraint("account_id", "region", "name", name=op.f("uq_deeplens_devices_account_id_region_name")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_deeplens_devices_certificate_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("deeplens_devices")
