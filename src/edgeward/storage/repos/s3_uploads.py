"""S3 multipart uploads and their parts.

UploadPart reads its upload with a shared lock and Complete/Abort with an exclusive one (PostgreSQL), so a
part never lands in an upload that is being completed or aborted: it waits, then finds the upload gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from edgeward.storage.integrity import violation
from edgeward.storage.tables_s3 import s3_parts, s3_uploads

_WRITE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class UploadRecord:
    upload_id: str
    bucket_id: int
    key: str
    initiated_at: datetime
    initiator_arn: str
    initiator_id: str
    storage_class: str = "STANDARD"
    headers: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


@dataclass(frozen=True, slots=True)
class PartRecord:
    part_number: int
    blob_id: str
    size: int
    etag: str
    last_modified: datetime
    checksums: Mapping[str, str] = field(default_factory=dict)


_BY_ID = select(s3_uploads).where(s3_uploads.c.upload_id == bindparam("upload_id"))
_PART = select(s3_parts).where(
    s3_parts.c.upload_id == bindparam("upload_id"), s3_parts.c.part_number == bindparam("part_number")
)


def create_upload(conn: Connection, upload: UploadRecord) -> None:
    conn.execute(insert(s3_uploads).values(_upload_values(upload)))


def get_upload(conn: Connection, upload_id: str, *, lock: str | None = None) -> UploadRecord | None:
    """The upload; `lock` "share" (adding parts) or "update" (completing, aborting) holds its row."""
    statement = _BY_ID
    if lock is not None:
        statement = statement.with_for_update(read=lock == "share")
    row = conn.execute(statement, {"upload_id": upload_id}).mappings().one_or_none()
    return None if row is None else _upload(row)


def put_part(conn: Connection, upload_id: str, part: PartRecord) -> str | None:
    """Store a part (replacing an earlier upload of the same number); the replaced part's blob id, if any."""
    values = {"upload_id": upload_id, **_part_values(part)}
    for _ in range(_WRITE_ATTEMPTS):
        old = (
            conn.execute(_PART.with_for_update(), {"upload_id": upload_id, "part_number": part.part_number})
            .mappings()
            .one_or_none()
        )
        if old is not None:
            conn.execute(
                s3_parts.update()
                .where(s3_parts.c.upload_id == upload_id, s3_parts.c.part_number == part.part_number)
                .values(values)
            )
            return str(old["blob_id"])
        try:
            with conn.begin_nested():
                conn.execute(insert(s3_parts).values(values))
        except IntegrityError as exc:
            if violation(exc).is_unique(s3_parts, "upload_id", "part_number"):
                continue
            raise
        return None
    raise RuntimeError(f"part {part.part_number} of {upload_id} kept changing under a write")


def parts(conn: Connection, upload_id: str, *, after: int = 0, limit: int | None = None) -> list[PartRecord]:
    statement = (
        select(s3_parts)
        .where(s3_parts.c.upload_id == upload_id, s3_parts.c.part_number > after)
        .order_by(s3_parts.c.part_number)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [_part(row) for row in conn.execute(statement).mappings()]


def delete_upload(conn: Connection, upload_id: str) -> list[str]:
    """Delete the upload and its parts; the blob ids the parts held."""
    freed = list(conn.scalars(select(s3_parts.c.blob_id).where(s3_parts.c.upload_id == upload_id)))
    conn.execute(delete(s3_parts).where(s3_parts.c.upload_id == upload_id))
    conn.execute(delete(s3_uploads).where(s3_uploads.c.upload_id == upload_id))
    return freed


def list_uploads(
    conn: Connection, bucket_id: int, *, prefix: str, key_marker: str, upload_id_marker: str, limit: int
) -> list[UploadRecord]:
    """Uploads of the bucket ordered by key, then upload id (ids begin with their creation time, so this is
    S3's order by initiation), after the markers; `limit` rows at most, prefix filtered."""
    key, upload_id = s3_uploads.c.object_key, s3_uploads.c.upload_id
    statement = select(s3_uploads).where(s3_uploads.c.bucket_id == bucket_id, key >= prefix)
    if key_marker and upload_id_marker:
        statement = statement.where(or_(key > key_marker, and_(key == key_marker, upload_id > upload_id_marker)))
    elif key_marker:
        statement = statement.where(key > key_marker)
    statement = statement.order_by(key, upload_id).limit(limit)
    return [_upload(row) for row in conn.execute(statement).mappings() if row["object_key"].startswith(prefix)]


def referenced(conn: Connection, blob_ids: Sequence[str]) -> set[str]:
    """Which of `blob_ids` some part refers to."""
    column = s3_parts.c.blob_id
    return set(conn.scalars(select(column).where(column.in_(list(blob_ids)))))


def _upload_values(upload: UploadRecord) -> dict[str, Any]:
    return {
        "upload_id": upload.upload_id,
        "bucket_id": upload.bucket_id,
        "object_key": upload.key,
        "initiated_at": upload.initiated_at,
        "initiator_arn": upload.initiator_arn,
        "initiator_id": upload.initiator_id,
        "storage_class": upload.storage_class,
        "headers": dict(upload.headers),
        "metadata": dict(upload.metadata),
        "checksum_algorithm": upload.checksum_algorithm,
        "checksum_type": upload.checksum_type,
    }


def _part_values(part: PartRecord) -> dict[str, Any]:
    return {
        "part_number": part.part_number,
        "blob_id": part.blob_id,
        "size": part.size,
        "etag": part.etag,
        "last_modified": part.last_modified,
        "checksums": dict(part.checksums),
    }


def _upload(row: Mapping[Any, Any]) -> UploadRecord:
    return UploadRecord(
        upload_id=row["upload_id"],
        bucket_id=row["bucket_id"],
        key=row["object_key"],
        initiated_at=row["initiated_at"],
        initiator_arn=row["initiator_arn"],
        initiator_id=row["initiator_id"],
        storage_class=row["storage_class"],
        headers=row["headers"],
        metadata=row["metadata"],
        checksum_algorithm=row["checksum_algorithm"],
        checksum_type=row["checksum_type"],
    )


def _part(row: Mapping[Any, Any]) -> PartRecord:
    return PartRecord(
        part_number=row["part_number"],
        blob_id=row["blob_id"],
        size=row["size"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        checksums=row["checksums"],
    )
