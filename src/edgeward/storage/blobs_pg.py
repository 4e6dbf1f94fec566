"""Object bytes in PostgreSQL, shared by every node of the installation.

A blob is a `blob_store_blobs` row plus `blob_store_chunks` of exactly `CHUNK` bytes (the last one shorter).
Each chunk is written in its own short transaction on the store's own connection pool, so a 5 GiB upload
never holds one huge transaction or the request's connection; `commit` stamps the blob finished. Fixed-size
chunks make a range read a direct look-up: byte `n` is in chunk `n // CHUNK`. Reads fetch a few chunks per
query, each in its own transaction, so memory stays bounded whatever the object's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, insert, select, update

from edgeward.core import clock
from edgeward.storage.blobs import CHUNK, BlobWriter, new_blob_id
from edgeward.storage.database import Database
from edgeward.storage.tables_s3 import blob_store_blobs, blob_store_chunks

# A writer marks its blob as alive every this many chunks (the sweep spares blobs touched within the hour).
TOUCH_EVERY = 16
# Chunks fetched per query when reading: enough to keep the connection busy, little enough to hold in memory.
READ_BATCH = 4

_CHUNKS_BETWEEN = (
    select(blob_store_chunks.c.seq, blob_store_chunks.c.data)
    .where(
        blob_store_chunks.c.blob_id == bindparam("blob_id"),
        blob_store_chunks.c.seq >= bindparam("first"),
        blob_store_chunks.c.seq <= bindparam("last"),
    )
    .order_by(blob_store_chunks.c.seq)
)


_TOUCH = (
    update(blob_store_blobs)
    .where(blob_store_blobs.c.blob_id == bindparam("blob_id"))
    .values(touched_at=bindparam("now"))
)


class _ChunkWriter:
    def __init__(self, store: PostgresBlobStore) -> None:
        self._db = store.db
        self._id = new_blob_id()
        self._buffer = bytearray()
        self._seq = 0
        self._size = 0
        now = clock.now()
        with self._db.engine.begin() as conn:
            conn.execute(insert(blob_store_blobs).values(blob_id=self._id, created_at=now, touched_at=now))

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= CHUNK:
            self._flush(bytes(self._buffer[:CHUNK]))
            del self._buffer[:CHUNK]

    def commit(self) -> str:
        if self._buffer:
            self._flush(bytes(self._buffer))
            self._buffer.clear()
        with self._db.engine.begin() as conn:
            conn.execute(
                update(blob_store_blobs)
                .where(blob_store_blobs.c.blob_id == self._id)
                .values(committed_at=clock.now(), touched_at=clock.now(), size=self._size)
            )
        return self._id

    def abort(self) -> None:
        self._buffer.clear()
        _delete(self._db, self._id)

    def _flush(self, chunk: bytes) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(insert(blob_store_chunks).values(blob_id=self._id, seq=self._seq, data=chunk))
            if self._seq % TOUCH_EVERY == TOUCH_EVERY - 1:
                conn.execute(_TOUCH, {"blob_id": self._id, "now": clock.now()})
        self._seq += 1
        self._size += len(chunk)


class PostgresBlobStore:
    """Blobs as chunk rows in the installation's PostgreSQL database (`db` is this store's own handle)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def writer(self) -> BlobWriter:
        return _ChunkWriter(self)

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        seq = start // CHUNK
        skip = start - seq * CHUNK
        remaining = None if end is None else end - start
        while remaining is None or remaining > 0:
            rows = self._chunks(blob_id, seq, seq + READ_BATCH - 1)
            for _, data in rows:
                piece = data[skip:] if skip else data
                skip = 0
                if remaining is not None:
                    piece = piece[:remaining]
                    remaining -= len(piece)
                if piece:
                    yield piece
                if remaining is not None and remaining <= 0:
                    return
            if len(rows) < READ_BATCH:
                return
            seq += READ_BATCH

    def delete(self, blob_id: str) -> None:
        _delete(self.db, blob_id)

    def stale(self, cutoff: float) -> Iterator[str]:
        before = datetime.fromtimestamp(cutoff, UTC)
        with self.db.read() as conn:
            ids = conn.scalars(select(blob_store_blobs.c.blob_id).where(blob_store_blobs.c.touched_at < before)).all()
        yield from ids

    def _chunks(self, blob_id: str, first: int, last: int) -> list[tuple[int, bytes]]:
        with self.db.read() as conn:
            rows = conn.execute(_CHUNKS_BETWEEN, {"blob_id": blob_id, "first": first, "last": last}).all()
        return [(row.seq, bytes(row.data)) for row in rows]


def _delete(db: Database, blob_id: str) -> None:
    # Chunks go with the blob row (ON DELETE CASCADE); deleted explicitly first so the cascade has no work.
    with db.engine.begin() as conn:
        conn.execute(delete(blob_store_chunks).where(blob_store_chunks.c.blob_id == blob_id))
        conn.execute(delete(blob_store_blobs).where(blob_store_blobs.c.blob_id == blob_id))
