"""Blob stores (data directory; PostgreSQL chunks) and the orphan sweep, against real files and databases."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeward.core import clock
from edgeward.services.s3.sweep import sweep_in_background, sweep_orphans
from edgeward.storage.blobs import CHUNK, BlobStore, FileBlobStore
from edgeward.storage.blobs_pg import PostgresBlobStore
from edgeward.storage.database import Database
from edgeward.storage.repos import accounts, s3_buckets, s3_objects, s3_uploads
from edgeward.storage.repos.s3_objects import ObjectRecord, Segment
from edgeward.storage.repos.s3_uploads import PartRecord, UploadRecord

DATA = os.urandom(2 * CHUNK + CHUNK // 2 + 7)


@pytest.fixture
def store(database: Database, tmp_path: Path) -> Iterator[BlobStore]:
    """The store each backend uses in production: files beside SQLite, chunk rows in PostgreSQL."""
    if database.dialect == "postgresql":
        yield PostgresBlobStore(database)
    else:
        yield FileBlobStore(tmp_path / "blobs")


def write(store: BlobStore, data: bytes, piece: int = 300 * 1024) -> str:
    writer = store.writer()
    for offset in range(0, len(data), piece):
        writer.write(data[offset : offset + piece])
    return writer.commit()


def test_write_read_ranges(store: BlobStore) -> None:
    blob_id = write(store, DATA)
    chunks = list(store.read(blob_id))
    assert b"".join(chunks) == DATA
    assert all(len(chunk) <= CHUNK for chunk in chunks)
    for start, end in ((0, 10), (CHUNK - 5, CHUNK + 5), (2 * CHUNK + 1, None), (CHUNK, 2 * CHUNK), (7, len(DATA) + 99)):
        assert b"".join(store.read(blob_id, start, end)) == DATA[start:end], (start, end)
    assert b"".join(store.read(blob_id, len(DATA))) == b""


def test_empty_blob(store: BlobStore) -> None:
    blob_id = store.writer().commit()
    assert b"".join(store.read(blob_id)) == b""


def test_abort_and_delete_leave_nothing(store: BlobStore) -> None:
    writer = store.writer()
    writer.write(DATA[: CHUNK + 1])
    writer.abort()
    blob_id = write(store, b"short-lived")
    assert list(store.stale(time.time() + 60)) == [blob_id]
    store.delete(blob_id)
    store.delete(blob_id)  # deleting twice is fine
    assert list(store.stale(time.time() + 60)) == []


def test_stale_spares_recent_blobs(store: BlobStore) -> None:
    write(store, b"fresh")
    assert list(store.stale(time.time() - 3600)) == []


def test_file_store_names_are_ids_never_keys(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    with pytest.raises(ValueError, match="not a blob id"):
        list(store.read("../../etc/passwd"))
    blob_id = write(store, b"x")
    assert store.path(blob_id).is_relative_to(tmp_path / "blobs")
    unfinished = store.writer()
    unfinished.write(b"abandoned mid-upload")
    assert len(list(store.stale(time.time() + 60))) == 2  # the unfinished one is an orphan candidate too
    store.delete(next(iter(os.listdir(tmp_path / "blobs" / "tmp"))))
    assert os.listdir(tmp_path / "blobs" / "tmp") == []


def test_sweep_deletes_only_unreferenced_blobs(database: Database, store: BlobStore) -> None:
    in_object, in_part, orphan = write(store, b"object"), write(store, b"part"), write(store, b"orphan")
    with database.transaction() as conn:
        accounts.create_account(conn, "123456789012")
        bucket = s3_buckets.create_bucket(conn, "123456789012", "sweep-bucket", "us-east-1")
        record = ObjectRecord(key="k", size=6, etag='"e"', last_modified=clock.now())
        s3_objects.put_object(conn, bucket.id, record, [Segment(in_object, 6)])
        upload = UploadRecord("u1", bucket.id, "k", clock.now(), "arn", "id")
        s3_uploads.create_upload(conn, upload)
        s3_uploads.put_part(conn, "u1", PartRecord(1, in_part, 4, '"p"', clock.now()))
    assert sweep_orphans(database, store, min_age=3600) == 0  # all too recent to be orphans
    assert sweep_orphans(database, store, min_age=-60) == 1
    assert b"".join(store.read(in_object)) == b"object"
    assert b"".join(store.read(in_part)) == b"part"
    assert orphan not in set(store.stale(time.time() + 60))


def test_sweep_at_start_up_runs_aside(database: Database, store: BlobStore) -> None:
    orphan = write(store, b"orphan")
    sweep_in_background(database, store).join(timeout=60)
    assert orphan in set(store.stale(time.time() + 60))  # an hour's grace: a fresh blob may be in flight
