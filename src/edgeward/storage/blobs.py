"""Object bytes, kept apart from metadata: the blob store interface and its data-directory implementation.

A blob is written once through a `BlobWriter` (`write` ... `commit` → its id, or `abort`), read as chunks,
and deleted. Ids are random (never derived from object keys), so no key can name a path outside the store.
`commit` returns only once the bytes are durable (fsync of file and directory).

`stale(cutoff)` lists blobs (finished or not) created before `cutoff`: the orphan sweep
(`services/s3/sweep.py`) deletes those no database row refers to. The PostgreSQL store is `blobs_pg`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

CHUNK = 1024 * 1024


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> str: ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    def writer(self) -> BlobWriter: ...

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes `start`..`end` (exclusive; None = to the end) in chunks of at most CHUNK."""
        ...

    def delete(self, blob_id: str) -> None:
        """Remove the blob (finished or still being written); a missing blob is not an error."""
        ...

    def stale(self, cutoff: float) -> Iterator[str]:
        """Ids of blobs created before `cutoff` (a POSIX timestamp), finished or abandoned mid-write."""
        ...


def new_blob_id() -> str:
    return secrets.token_hex(16)


class _FileWriter:
    def __init__(self, store: FileBlobStore) -> None:
        self._store = store
        self._id = new_blob_id()
        self._tmp = store.root / "tmp" / self._id
        self._file = open(self._tmp, "xb")  # noqa: SIM115 - closed by commit/abort

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self._store.path(self._id)
        final.parent.mkdir(exist_ok=True)
        os.replace(self._tmp, final)
        _fsync_dir(final.parent)
        return self._id

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)


class FileBlobStore:
    """Blobs as files under `<data-dir>/blobs/<2 hex>/<id>`; uploads in progress under `tmp/`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, blob_id: str) -> Path:
        if not _is_blob_id(blob_id):
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.root / blob_id[:2] / blob_id

    def writer(self) -> BlobWriter:
        return _FileWriter(self)

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with open(self.path(blob_id), "rb") as handle:
            handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                chunk = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)
        (self.root / "tmp" / blob_id).unlink(missing_ok=True)

    def stale(self, cutoff: float) -> Iterator[str]:
        for directory in self.root.iterdir():
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                if _is_blob_id(entry.name) and _modified(entry) < cutoff:
                    yield entry.name


def _modified(entry: os.DirEntry[str]) -> float:
    try:
        return entry.stat().st_mtime
    except FileNotFoundError:  # deleted since the directory was read
        return float("inf")


def _is_blob_id(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
