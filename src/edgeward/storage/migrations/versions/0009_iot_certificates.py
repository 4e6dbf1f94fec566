"""IoT device certificates and registered CA certificates.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "'ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION'"


def _common_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("certificate_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("arn", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
    ]


def _lifecycle_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_version", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "iot_ca_certificates",
        *_common_columns(),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("auto_registration", sa.Text(), nullable=False),
        sa.Column("registration_config", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        *_lifecycle_columns(),
        sa.CheckConstraint(
            "auto_registration IN ('ENABLE', 'DISABLE')", name=op.f("ck_iot_ca_certificates_auto_registration")
        ),
        sa.CheckConstraint("mode IN ('DEFAULT', 'SNI_ONLY')", name=op.f("ck_iot_ca_certificates_mode")),
        sa.CheckConstraint("status IN ('ACTIVE', 'INACTIVE')", name=op.f("ck_iot_ca_certificates_status")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iot_ca_certificates_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_iot_ca_certificates")),
    )
    op.create_index(
        op.f("ix_iot_ca_certificates_account_id_region_created_at"),
        "iot_ca_certificates",
        ["account_id", "region", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_iot_ca_certificates_status"), "iot_ca_certificates", ["status"], unique=False)

    op.create_table(
        "iot_certificates",
        *_common_columns(),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("ca_certificate_id", sa.Text(), nullable=True),
        sa.Column("mode", sa.Text(), nullable=False),
        *_lifecycle_columns(),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_iot_certificates_status")),
        sa.CheckConstraint("mode IN ('DEFAULT', 'SNI_ONLY')", name=op.f("ck_iot_certificates_mode")),
        sa.CheckConstraint(
            "source IN ('EDGEWARD_CA', 'REGISTERED_CA', 'NO_CA')", name=op.f("ck_iot_certificates_source")
        ),
        sa.CheckConstraint(
            "(source = 'REGISTERED_CA' AND ca_certificate_id IS NOT NULL) OR "
            "(source <> 'REGISTERED_CA' AND ca_certificate_id IS NULL)",
            name=op.f("ck_iot_certificates_ca"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_iot_certificates_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_iot_certificates")),
    )
    op.create_index(
        op.f("ix_iot_certificates_account_id_region_created_at"),
        "iot_certificates",
        ["account_id", "region", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_iot_certificates_ca_certificate_id_created_at"),
        "iot_certificates",
        ["ca_certificate_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_iot_certificates_source_status"), "iot_certificates", ["source", "status"], unique=False)


def downgrade() -> None:
    op.drop_table("iot_certificates")
    op.drop_table("iot_ca_certificates")
