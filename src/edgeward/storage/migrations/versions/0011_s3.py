"""S3 buckets, objects, multipart uploads and (on PostgreSQL) blob chunks.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _name_key() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    _buckets()
    _objects()
    _uploads()
    _blob_store()


def _buckets() -> None:
    op.create_table(
        "s3_buckets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", _name_key(), nullable=False),
        sa.Column("account_id", sa.CHAR(length=12), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_s3_buckets_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_s3_buckets")),
        sa.UniqueConstraint("name", name=op.f("uq_s3_buckets_name")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_s3_buckets_account_id"), "s3_buckets", ["account_id"], unique=False)


def _objects() -> None:
    op.create_table(
        "s3_objects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("object_key", _name_key(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("storage_class", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("checksums", sa.Text(), nullable=False),
        sa.Column("checksum_type", sa.Text(), nullable=True),
        sa.Column("parts_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bucket_id"], ["s3_buckets.id"], name=op.f("fk_s3_objects_bucket_id_s3_buckets"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_s3_objects")),
        sa.UniqueConstraint("bucket_id", "object_key", name=op.f("uq_s3_objects_bucket_id_object_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "s3_object_segments",
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["s3_objects.id"],
            name=op.f("fk_s3_object_segments_object_id_s3_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", "seq", name=op.f("pk_s3_object_segments")),
        sa.UniqueConstraint("blob_id", name=op.f("uq_s3_object_segments_blob_id")),
    )


def _uploads() -> None:
    op.create_table(
        "s3_uploads",
        sa.Column("upload_id", sa.Text(), nullable=False),
        sa.Column("bucket_id", sa.Integer(), nullable=False),
        sa.Column("object_key", _name_key(), nullable=False),
        sa.Column("initiated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("initiator_arn", sa.Text(), nullable=False),
        sa.Column("initiator_id", sa.Text(), nullable=False),
        sa.Column("storage_class", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("checksum_algorithm", sa.Text(), nullable=True),
        sa.Column("checksum_type", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bucket_id"], ["s3_buckets.id"], name=op.f("fk_s3_uploads_bucket_id_s3_buckets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("upload_id", name=op.f("pk_s3_uploads")),
    )
    op.create_index(
        op.f("ix_s3_uploads_bucket_id_object_key_initiated_at"),
        "s3_uploads",
        ["bucket_id", "object_key", "initiated_at"],
        unique=False,
    )
    op.create_table(
        "s3_parts",
        sa.Column("upload_id", sa.Text(), nullable=False),
        sa.Column("part_number", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checksums", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["s3_uploads.upload_id"], name=op.f("fk_s3_parts_upload_id_s3_uploads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("upload_id", "part_number", name=op.f("pk_s3_parts")),
        sa.UniqueConstraint("blob_id", name=op.f("uq_s3_parts_blob_id")),
    )


def _blob_store() -> None:
    op.create_table(
        "blob_store_blobs",
        sa.Column("blob_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("blob_id", name=op.f("pk_blob_store_blobs")),
    )
    op.create_index(op.f("ix_blob_store_blobs_touched_at"), "blob_store_blobs", ["touched_at"], unique=False)
    op.create_table(
        "blob_store_chunks",
        sa.Column("blob_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_id"],
            ["blob_store_blobs.blob_id"],
            name=op.f("fk_blob_store_chunks_blob_id_blob_store_blobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blob_id", "seq", name=op.f("pk_blob_store_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Object bytes do not compress: keep them out of TOAST's compressor (stored out of line as they are).
        op.execute("ALTER TABLE blob_store_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    for table in ("blob_store_chunks", "blob_store_blobs", "s3_parts", "s3_uploads", "s3_object_segments"):
        op.drop_table(table)
    op.drop_table("s3_objects")
    op.drop_table("s3_buckets")
