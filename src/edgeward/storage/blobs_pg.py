"""Object bytes in PostgreSQL, shared by every node of the installation.

A blob is a `blob_store_blobs` row plus `blob_store_chunks` of exactly `CHUNK` bytes (the last one shorter).
Each chunk is written in its own short transaction on the store's own connection pool, so a 5 GiB upload
never holds one huge transaction or the request's connection; `commit` stamps the blob finished. Fixed-size
chunks make a range read a direct look-up: byte `n` is in chunk `n // CHUNK`.

Memory per stream is bounded whatever the object's size. A writer fills one CHUNK buffer in place and sends
it before taking more. A reader asks for a quarter chunk per query (`substring` runs in the database, so a
range also fetches only the bytes wanted), in binary result format: psycopg's default text format sends
bytea as hex, twice the bytes on the wire plus an unescaping copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, func, insert, select, update

from edgeward.core import clock
from edgeward.storage.blobs import CHUNK, BlobWriter, new_blob_id
from edgeward.storage.database import Database
from edgeward.storage.tables_s3 import blob_store_blobs, blob_store_chunks

# A writer marks its blob as alive every this many chunks (the sweep spares blobs touched within the hour).
TOUCH_EVERY = 16
# A read fetches a chunk in pieces of this size (a divisor of CHUNK): a slice of an uncompressed TOASTed value
# is read without the rest of it, and each download then holds about this much, not a whole chunk.
READ_PIECE = CHUNK // 4

# One chunk, or the part of it a range wants (`substring` counts from 1).
_CHUNK_PART = select(func.substring(blob_store_chunks.c.data, bindparam("offset"), bindparam("length"))).where(
    blob_store_chunks.c.blob_id == bindparam("blob_id"), blob_store_chunks.c.seq == bindparam("seq")
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
        # One chunk's buffer for the writer's whole life, filled in place and reused after each insert.
        # (calloc'd: a small object never touches most of its pages.)
        self._buffer = bytearray(CHUNK)
        self._filled = 0
        self._seq = 0
        self._size = 0
        now = clock.now()
        with self._db.engine.begin() as conn:
            conn.execute(insert(blob_store_blobs).values(blob_id=self._id, created_at=now, touched_at=now))

    def write(self, data: bytes) -> None:
        # Copied into the chunk buffer piece by piece: never more than one chunk held here, however large `data`.
        view = memoryview(data)
        while view:
            size = min(CHUNK - self._filled, len(view))
            self._buffer[self._filled : self._filled + size] = view[:size]
            self._filled += size
            view = view[size:]
            if self._filled == CHUNK:
                self._flush()

    def commit(self) -> str:
        if self._filled:
            self._flush()
        with self._db.engine.begin() as conn:
            conn.execute(
                update(blob_store_blobs)
                .where(blob_store_blobs.c.blob_id == self._id)
                .values(committed_at=clock.now(), touched_at=clock.now(), size=self._size)
            )
        return self._id

    def abort(self) -> None:
        self._filled = 0
        _delete(self._db, self._id)

    def _flush(self) -> None:
        # The driver reads the buffer in place (no bytes copy) and is done with it when the insert returns.
        with memoryview(self._buffer)[: self._filled] as chunk, self._db.engine.begin() as conn:
            conn.execute(insert(blob_store_chunks).values(blob_id=self._id, seq=self._seq, data=chunk))
            if self._seq % TOUCH_EVERY == TOUCH_EVERY - 1:
                conn.execute(_TOUCH, {"blob_id": self._id, "now": clock.now()})
        self._seq += 1
        self._size += self._filled
        self._filled = 0


class PostgresBlobStore:
    """Blobs as chunk rows in the installation's PostgreSQL database (`db` is this store's own handle)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._chunk_sql: str | None = None

    def writer(self) -> BlobWriter:
        return _ChunkWriter(self)

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        position = start
        while end is None or position < end:
            seq, offset = divmod(position, CHUNK)
            length = min(READ_PIECE, CHUNK - offset, CHUNK if end is None else end - position)
            piece = self._chunk(blob_id, seq, offset, length)
            if not piece:  # past the end of the blob
                return
            yield piece
            if len(piece) < length:  # only the last chunk is shorter than CHUNK: the blob ends here
                return
            position += length

    def delete(self, blob_id: str) -> None:
        _delete(self.db, blob_id)

    def stale(self, cutoff: float) -> Iterator[str]:
        before = datetime.fromtimestamp(cutoff, UTC)
        with self.db.read() as conn:
            ids = conn.scalars(select(blob_store_blobs.c.blob_id).where(blob_store_blobs.c.touched_at < before)).all()
        yield from ids

    def _chunk(self, blob_id: str, seq: int, offset: int, length: int) -> bytes | None:
        """`length` bytes of chunk `seq` from `offset` (fewer at the blob's end; None past it), in its own short
        read transaction."""
        with self.db.read() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            if self._chunk_sql is None:
                self._chunk_sql = str(_CHUNK_PART.compile(dialect=conn.dialect))
            params = {"blob_id": blob_id, "seq": seq, "offset": offset + 1, "length": length}
            # psycopg directly: only it can ask for the binary result format.
            with driver.cursor(binary=True) as cursor:
                row = cursor.execute(self._chunk_sql, params).fetchone()
        return None if row is None else row[0]


def _delete(db: Database, blob_id: str) -> None:
    # Chunks go with the blob row (ON DELETE CASCADE); deleted explicitly first so the cascade has no work.
    with db.engine.begin() as conn:
        conn.execute(delete(blob_store_chunks).where(blob_store_chunks.c.blob_id == blob_id))
        conn.execute(delete(blob_store_blobs).where(blob_store_blobs.c.blob_id == blob_id))
