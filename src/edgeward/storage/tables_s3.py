"""S3 buckets, objects, multipart uploads and (on PostgreSQL) blob chunks.

Object bytes are never in these rows: an object is a list of segments, each naming a blob in the blob store
(one segment for PutObject and CopyObject, one per part for a completed multipart upload). Blob ids are
unique across segments and parts, so exactly one row owns each blob and deleting that row frees it.

Keys sort by bytes (`NAME_KEY`: collation "C" on PostgreSQL, SQLite's binary default), which is S3's
listing order (UTF-8 binary). Bucket names are unique across the installation, as in S3's global namespace.
Deleting a bucket that still holds objects fails on the foreign key (RESTRICT), so BucketNotEmpty holds
even against a concurrent PutObject; its unfinished multipart uploads go with it (CASCADE).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from edgeward.storage.tables import ACCOUNT_ID, NAME_KEY, metadata
from edgeward.storage.types import JsonText, UtcDateTime

s3_buckets = Table(
    "s3_buckets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", NAME_KEY, nullable=False),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("policy", Text, nullable=True),
    UniqueConstraint("name"),
    Index(None, "account_id"),
    sqlite_autoincrement=True,
)

# `headers`: the content headers to return (ContentType, CacheControl, ...); `metadata`: x-amz-meta-*;
# `checksums`: algorithm -> base64 value as S3 returns it (`...-N` for multipart composites).
s3_objects = Table(
    "s3_objects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bucket_id", Integer, ForeignKey("s3_buckets.id", ondelete="RESTRICT"), nullable=False),
    Column("object_key", NAME_KEY, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", Text, nullable=False),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("storage_class", Text, nullable=False),
    Column("headers", JsonText, nullable=False),
    Column("metadata", JsonText, nullable=False),
    Column("checksums", JsonText, nullable=False),
    Column("checksum_type", Text, nullable=True),
    Column("parts_count", Integer, nullable=True),
    UniqueConstraint("bucket_id", "object_key"),
    sqlite_autoincrement=True,
)

s3_object_segments = Table(
    "s3_object_segments",
    metadata,
    Column("object_id", Integer, ForeignKey("s3_objects.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("blob_id", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    PrimaryKeyConstraint("object_id", "seq"),
    UniqueConstraint("blob_id"),
)

s3_uploads = Table(
    "s3_uploads",
    metadata,
    Column("upload_id", Text, primary_key=True),
    Column("bucket_id", Integer, ForeignKey("s3_buckets.id", ondelete="CASCADE"), nullable=False),
    Column("object_key", NAME_KEY, nullable=False),
    Column("initiated_at", UtcDateTime, nullable=False),
    Column("initiator_arn", Text, nullable=False),
    Column("initiator_id", Text, nullable=False),
    Column("storage_class", Text, nullable=False),
    Column("headers", JsonText, nullable=False),
    Column("metadata", JsonText, nullable=False),
    Column("checksum_algorithm", Text, nullable=True),
    Column("checksum_type", Text, nullable=True),
    Index(None, "bucket_id", "object_key", "initiated_at"),
)

s3_parts = Table(
    "s3_parts",
    metadata,
    Column("upload_id", Text, ForeignKey("s3_uploads.upload_id", ondelete="CASCADE"), nullable=False),
    Column("part_number", Integer, nullable=False),
    Column("blob_id", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", Text, nullable=False),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("checksums", JsonText, nullable=False),
    PrimaryKeyConstraint("upload_id", "part_number"),
    UniqueConstraint("blob_id"),
)

# The PostgreSQL blob store (`storage.blobs_pg`): a blob is a row here plus its chunks of up to 1 MiB, each
# written in its own short transaction; `committed_at` is set once the writer committed the whole blob.
# `touched_at` moves while a writer is still writing, so the orphan sweep never takes a long upload for
# an abandoned one.
blob_store_blobs = Table(
    "blob_store_blobs",
    metadata,
    Column("blob_id", Text, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("touched_at", UtcDateTime, nullable=False),
    Column("committed_at", UtcDateTime, nullable=True),
    Column("size", BigInteger, nullable=True),
    Index(None, "touched_at"),
)

blob_store_chunks = Table(
    "blob_store_chunks",
    metadata,
    Column("blob_id", Text, ForeignKey("blob_store_blobs.blob_id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("blob_id", "seq"),
)
