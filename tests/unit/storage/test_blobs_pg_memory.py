"""The PostgreSQL blob store streams: a read holds one chunk at a time and a range fetches only its bytes; a
write holds one chunk buffer however large the pieces it is given. Python-side allocations are measured with
tracemalloc (libpq's own buffers are bounded by one chunk per connection, see the server-level check in
tests/services/test_s3_wire_clients.py)."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edgeward.storage.blobs import CHUNK
from edgeward.storage.blobs_pg import READ_PIECE, PostgresBlobStore
from edgeward.storage.database import Database

CHUNKS = 8
DATA = os.urandom(CHUNKS * CHUNK + 1234)


@pytest.fixture
def store(database: Database) -> Iterator[PostgresBlobStore]:
    if database.dialect != "postgresql":
        pytest.skip("measures the PostgreSQL blob store: runs in the postgres variant only")
    yield PostgresBlobStore(database)


def peak_bytes(work: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def stored(store: PostgresBlobStore) -> str:
    writer = store.writer()
    writer.write(DATA)
    return writer.commit()


def test_reading_holds_one_piece_at_a_time(store: PostgresBlobStore) -> None:
    blob_id = stored(store)
    list(store.read(blob_id, 0, 10))  # warm-up: statement compiled, pool connection open

    def consume() -> None:
        total = 0
        for piece in store.read(blob_id):
            total += len(piece)
        assert total == len(DATA)

    # The piece being fetched and the one the consumer still holds, never a chunk, let alone CHUNKS of them.
    assert peak_bytes(consume) < 2.5 * READ_PIECE


def test_a_range_fetches_only_its_bytes(store: PostgresBlobStore) -> None:
    blob_id = stored(store)
    pieces = list(store.read(blob_id, CHUNK - 10, 2 * CHUNK + 5))
    assert [len(piece) for piece in pieces] == [10, *[READ_PIECE] * (CHUNK // READ_PIECE), 5]
    assert b"".join(pieces) == DATA[CHUNK - 10 : 2 * CHUNK + 5]
    assert [len(piece) for piece in store.read(blob_id, CHUNKS * CHUNK - 3)] == [3, 1234]
    assert peak_bytes(lambda: list(store.read(blob_id, 5 * CHUNK + 7, 5 * CHUNK + 17))) < CHUNK // 4
    assert list(store.read(blob_id, len(DATA) + 5)) == []


def test_writing_holds_one_chunk_buffer(store: PostgresBlobStore) -> None:
    """One 8 MiB write goes out a chunk at a time: the writer never copies the whole piece."""
    writer = store.writer()
    writer.write(b"warm-up")  # the first chunk's insert, later, compiles the statement
    peak = peak_bytes(lambda: writer.write(DATA))
    blob_id = writer.commit()
    assert peak < 1.5 * CHUNK
    assert b"".join(store.read(blob_id)) == b"warm-up" + DATA
