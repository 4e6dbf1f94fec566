"""S3 buckets: one global namespace of names, each bucket owned by an account, with an optional policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists, InUse
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.tables_s3 import s3_buckets, s3_parts, s3_uploads


@dataclass(frozen=True, slots=True)
class BucketRecord:
    id: int
    name: str
    account: str
    region: str
    created_at: datetime
    policy: str | None


_BY_NAME = select(s3_buckets).where(s3_buckets.c.name == bindparam("name"))


def create_bucket(conn: Connection, account: str, name: str, region: str) -> BucketRecord:
    """Insert a bucket; AlreadyExists when the name is taken (by any account: the namespace is global)."""
    values = {"name": name, "account_id": account, "region": region, "created_at": clock.now(), "policy": None}
    try:
        with conn.begin_nested():
            bucket_id = conn.execute(insert(s3_buckets).values(values).returning(s3_buckets.c.id)).scalar_one()
    except IntegrityError as exc:
        if violation(exc).is_unique(s3_buckets, "name"):
            raise AlreadyExists(f"Bucket {name} already exists.") from None
        raise
    return _record({**values, "id": bucket_id})


def get_bucket(conn: Connection, name: str, *, lock: bool = False) -> BucketRecord | None:
    """The bucket of that name. `lock=True` takes its row lock (PostgreSQL), for changes and deletion."""
    statement = _BY_NAME.with_for_update() if lock else _BY_NAME
    row = conn.execute(statement, {"name": name}).mappings().one_or_none()
    return None if row is None else _record(row)


def list_buckets(
    conn: Connection, account: str, *, prefix: str = "", after: str = "", limit: int | None = None
) -> list[BucketRecord]:
    """The account's buckets in name order, names starting with `prefix` and after `after`."""
    statement = select(s3_buckets).where(s3_buckets.c.account_id == account).order_by(s3_buckets.c.name)
    if after:
        statement = statement.where(s3_buckets.c.name > after)
    if prefix:
        statement = statement.where(s3_buckets.c.name >= prefix)
    if limit is not None:
        statement = statement.limit(limit)
    rows = conn.execute(statement).mappings().all()
    return [_record(row) for row in rows if row["name"].startswith(prefix)]


def set_policy(conn: Connection, bucket_id: int, policy: str | None) -> None:
    conn.execute(update(s3_buckets).where(s3_buckets.c.id == bucket_id).values(policy=policy))


def delete_bucket(conn: Connection, bucket_id: int) -> list[str]:
    """Delete the bucket and its unfinished multipart uploads; returns the blob ids its uploads' parts held.

    InUse while it holds objects: the objects' foreign key (RESTRICT) decides, so a concurrent PutObject
    cannot slip an object into a bucket being deleted.
    """
    freed = list(
        conn.scalars(
            select(s3_parts.c.blob_id)
            .join(s3_uploads, s3_uploads.c.upload_id == s3_parts.c.upload_id)
            .where(s3_uploads.c.bucket_id == bucket_id)
        )
    )
    try:
        with conn.begin_nested():
            conn.execute(delete(s3_buckets).where(s3_buckets.c.id == bucket_id))
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse("The bucket you tried to delete is not empty") from None
        raise
    return freed


def _record(row: Mapping[Any, Any]) -> BucketRecord:
    return BucketRecord(
        id=row["id"],
        name=row["name"],
        account=row["account_id"],
        region=row["region"],
        created_at=row["created_at"],
        policy=row["policy"],
    )
