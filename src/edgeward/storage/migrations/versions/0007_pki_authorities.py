"""edgeward's certificate authorities (root and issuing CA, keys sealed).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pki_authorities",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("key_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('root', 'issuing')", name=op.f("ck_pki_authorities_kind")),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_pki_authorities")),
    )


def downgrade() -> None:
    op.drop_table("pki_authorities")
