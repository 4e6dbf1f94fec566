"""The orphan sweep: blobs no object or part refers to, left by a crash between a blob's commit and its
request's database commit (or by a failed delete after one). Run at start-up; safe on every node at once.

Only blobs untouched for `min_age` are candidates, so a blob whose request is still in flight (staged, its
transaction not yet committed) is never taken for an orphan.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator

from edgeward.storage.blobs import BlobStore
from edgeward.storage.database import Database
from edgeward.storage.repos import s3_objects, s3_uploads

log = logging.getLogger(__name__)

MIN_AGE_SECONDS = 3600.0
_BATCH = 500


def sweep_orphans(db: Database, blobs: BlobStore, *, min_age: float = MIN_AGE_SECONDS) -> int:
    """Delete unreferenced blobs older than `min_age` seconds; how many were deleted."""
    deleted = 0
    for batch in _batches(blobs.stale(time.time() - min_age)):
        with db.read() as conn:
            kept = s3_objects.referenced(conn, batch) | s3_uploads.referenced(conn, batch)
        for blob_id in batch:
            if blob_id not in kept:
                blobs.delete(blob_id)
                deleted += 1
    if deleted:
        log.info("deleted %d orphaned blobs", deleted)
    return deleted


def sweep_in_background(db: Database, blobs: BlobStore) -> threading.Thread:
    """Start-up hook: sweep on a daemon thread, so serving never waits for it; failures are only logged."""

    def run() -> None:
        try:
            sweep_orphans(db, blobs)
        except Exception:
            log.warning("the orphaned-blob sweep failed; it runs again at the next start", exc_info=True)

    thread = threading.Thread(target=run, name="edgeward-blob-sweep", daemon=True)
    thread.start()
    return thread


def _batches(ids: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for blob_id in ids:
        batch.append(blob_id)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
