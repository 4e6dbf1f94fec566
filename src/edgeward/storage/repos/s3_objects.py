"""S3 objects: one row per (bucket, key) with its metadata, and the blobs holding its bytes as segments.

Writers return the blob ids they stopped referring to (an overwritten or deleted object's segments): the
caller deletes those blobs only after its transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.integrity import violation
from edgeward.storage.tables_s3 import s3_object_segments, s3_objects

# A concurrent writer may delete the row between our failed insert and our re-read; a few rounds settle it.
_WRITE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Segment:
    blob_id: str
    size: int


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    """An object's metadata (what PutObject, CopyObject or CompleteMultipartUpload stored)."""

    key: str
    size: int
    etag: str
    last_modified: datetime
    storage_class: str = "STANDARD"
    headers: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    checksums: Mapping[str, str] = field(default_factory=dict)
    checksum_type: str | None = None
    parts_count: int | None = None
    id: int = 0


_BY_KEY = select(s3_objects).where(
    s3_objects.c.bucket_id == bindparam("bucket_id"), s3_objects.c.object_key == bindparam("key")
)
_SEGMENTS = (
    select(s3_object_segments.c.blob_id, s3_object_segments.c.size)
    .where(s3_object_segments.c.object_id == bindparam("object_id"))
    .order_by(s3_object_segments.c.seq)
)


def get_object(conn: Connection, bucket_id: int, key: str, *, lock: bool = False) -> ObjectRecord | None:
    """The object at `key`. `lock=True` holds its row (PostgreSQL) until the transaction ends."""
    statement = _BY_KEY.with_for_update() if lock else _BY_KEY
    row = conn.execute(statement, {"bucket_id": bucket_id, "key": key}).mappings().one_or_none()
    return None if row is None else _record(row)


def segments(conn: Connection, object_id: int) -> list[Segment]:
    return [Segment(row.blob_id, row.size) for row in conn.execute(_SEGMENTS, {"object_id": object_id})]


def put_object(
    conn: Connection,
    bucket_id: int,
    record: ObjectRecord,
    parts: Sequence[Segment],
    *,
    check: Callable[[ObjectRecord | None], None] | None = None,
) -> list[str]:
    """Store `record` at its key with `parts` as its bytes, replacing any object there (last writer wins).

    Returns the blob ids of the replaced object. Insert first, update on conflict, under the row lock: two
    concurrent writers of one key serialize on it, and neither loses track of the other's blobs. `check`
    sees the object being replaced (or None) under that lock and may raise (conditional writes).
    """
    values = _values(bucket_id, record)
    for _ in range(_WRITE_ATTEMPTS):
        existing = get_object(conn, bucket_id, record.key, lock=True)
        if check is not None:
            check(existing)
        if existing is not None:
            freed = [segment.blob_id for segment in segments(conn, existing.id)]
            conn.execute(update(s3_objects).where(s3_objects.c.id == existing.id).values(values))
            conn.execute(delete(s3_object_segments).where(s3_object_segments.c.object_id == existing.id))
            _insert_segments(conn, existing.id, parts)
            return freed
        try:
            with conn.begin_nested():
                object_id = conn.execute(insert(s3_objects).values(values).returning(s3_objects.c.id)).scalar_one()
        except IntegrityError as exc:
            if violation(exc).is_unique(s3_objects, "bucket_id", "object_key"):
                continue  # a concurrent writer created it: lock theirs and replace it
            raise
        _insert_segments(conn, object_id, parts)
        return []
    raise RuntimeError(f"object {record.key!r} kept changing under a write")


def delete_object(conn: Connection, bucket_id: int, key: str) -> list[str] | None:
    """Delete the object at `key`; its blob ids, or None when there was none."""
    existing = get_object(conn, bucket_id, key, lock=True)
    if existing is None:
        return None
    freed = [segment.blob_id for segment in segments(conn, existing.id)]
    conn.execute(delete(s3_object_segments).where(s3_object_segments.c.object_id == existing.id))
    conn.execute(delete(s3_objects).where(s3_objects.c.id == existing.id))
    return freed


def scan(conn: Connection, bucket_id: int, *, start: str, inclusive: bool, limit: int) -> list[ObjectRecord]:
    """Up to `limit` objects in key order from `start` on (listings filter prefixes and roll-ups themselves)."""
    key = s3_objects.c.object_key
    statement = (
        select(s3_objects)
        .where(s3_objects.c.bucket_id == bucket_id, key >= start if inclusive else key > start)
        .order_by(key)
        .limit(limit)
    )
    return [_record(row) for row in conn.execute(statement).mappings()]


def referenced(conn: Connection, blob_ids: Sequence[str]) -> set[str]:
    """Which of `blob_ids` some object segment refers to."""
    column = s3_object_segments.c.blob_id
    return set(conn.scalars(select(column).where(column.in_(list(blob_ids)))))


def _insert_segments(conn: Connection, object_id: int, parts: Sequence[Segment]) -> None:
    if parts:
        rows = [
            {"object_id": object_id, "seq": seq, "blob_id": part.blob_id, "size": part.size}
            for seq, part in enumerate(parts)
        ]
        conn.execute(insert(s3_object_segments), rows)


def _values(bucket_id: int, record: ObjectRecord) -> dict[str, Any]:
    return {
        "bucket_id": bucket_id,
        "object_key": record.key,
        "size": record.size,
        "etag": record.etag,
        "last_modified": record.last_modified,
        "storage_class": record.storage_class,
        "headers": dict(record.headers),
        "metadata": dict(record.metadata),
        "checksums": dict(record.checksums),
        "checksum_type": record.checksum_type,
        "parts_count": record.parts_count,
    }


def _record(row: Mapping[Any, Any]) -> ObjectRecord:
    return ObjectRecord(
        id=row["id"],
        key=row["object_key"],
        size=row["size"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        storage_class=row["storage_class"],
        headers=row["headers"],
        metadata=row["metadata"],
        checksums=row["checksums"],
        checksum_type=row["checksum_type"],
        parts_count=row["parts_count"],
    )
