"""Object bytes as handlers see them: a request body staged in the blob store, stored segments streamed
back, and blobs freed once the transaction that dropped them has committed.

The server normally stages PutObject/UploadPart bodies itself (a `StagedBody`, digests verified while
streaming) and deletes that blob when the request fails. A body that arrives as plain bytes is staged here
with the same checks, and deleted here if the handler fails.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from edgeward.core.payload import StagedBody
from edgeward.services.context import Context
from edgeward.services.s3 import checksums, errors
from edgeward.storage.blobs import BlobStore
from edgeward.storage.repos.s3_objects import Segment

log = logging.getLogger(__name__)

AFTER_COMMIT = "after_commit"
_SELF_STAGED = "s3.self_staged"


def store(ctx: Context) -> BlobStore:
    if ctx.blobs is None:
        raise RuntimeError("this context has no blob store")
    return ctx.blobs


def stage(ctx: Context, params: Mapping[str, Any]) -> StagedBody:
    """The request body as a staged blob (as the server handed it, or written now from bytes)."""
    body = params.get("Body")
    if isinstance(body, StagedBody):
        return body
    data = b"" if body is None else bytes(body)
    computed = _verify(params, data)
    writer = store(ctx).writer()
    try:
        writer.write(data)
        blob_id = writer.commit()
    except BaseException:
        writer.abort()
        raise
    ctx.extras.setdefault(_SELF_STAGED, []).append(blob_id)
    return StagedBody(blob_id, len(data), hashlib.md5(data).hexdigest(), computed, hashlib.sha256(data).hexdigest())


@contextlib.contextmanager
def released_on_error(ctx: Context, *blob_ids: str) -> Iterator[None]:
    """Delete blobs this module staged (or a handler wrote) when the block raises; the server's own staged
    bodies are its business."""
    try:
        yield
    except BaseException:
        mine = set(ctx.extras.get(_SELF_STAGED, ()))
        for blob_id in blob_ids:
            if blob_id in mine:
                _delete_quietly(store(ctx), blob_id)
        raise


def written(ctx: Context, blob_id: str) -> None:
    """Note a blob the handler wrote itself (CopyObject), so `released_on_error` deletes it on failure."""
    ctx.extras.setdefault(_SELF_STAGED, []).append(blob_id)


def free_after_commit(ctx: Context, blob_ids: Sequence[str]) -> None:
    """Delete `blob_ids` once this request's transaction has committed (never if it rolls back)."""
    if not blob_ids:
        return
    blobs, ids = store(ctx), list(blob_ids)

    def free() -> None:
        for blob_id in ids:
            _delete_quietly(blobs, blob_id)

    callbacks: list[Callable[[], None]] = ctx.extras.setdefault(AFTER_COMMIT, [])
    callbacks.append(free)


class SegmentStream:
    """Bytes `start`..`end` (exclusive) of an object stored as `segments`, read lazily from the blob store.

    A `BodyStream` (core/payload.py); `bytes()` of it reads it whole, for callers that want bytes.
    """

    def __init__(self, blobs: BlobStore, segments: Sequence[Segment], start: int, end: int) -> None:
        self.length = max(0, end - start)
        self._blobs = blobs
        self._segments = list(segments)
        self._start, self._end = start, end
        self._chunks: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        self._chunks = self._read()
        return self._chunks

    def __bytes__(self) -> bytes:
        return b"".join(self)

    def close(self) -> None:
        chunks, self._chunks = self._chunks, None
        close = getattr(chunks, "close", None)
        if close is not None:
            close()

    def _read(self) -> Iterator[bytes]:
        offset = 0
        for segment in self._segments:
            first, last = offset, offset + segment.size
            offset = last
            if last <= self._start or segment.size == 0:
                continue
            if first >= self._end:
                return
            start = max(self._start - first, 0)
            end = min(self._end, last) - first
            yield from self._blobs.read(segment.blob_id, start, end)


def copy_into(blobs: BlobStore, chunks: Iterable[bytes]) -> tuple[str, int, str]:
    """Write `chunks` as a new blob; (blob id, size, MD5 hex)."""
    writer = blobs.writer()
    md5, size = hashlib.md5(), 0
    try:
        for chunk in chunks:
            writer.write(chunk)
            md5.update(chunk)
            size += len(chunk)
        return writer.commit(), size, md5.hexdigest()
    except BaseException:
        writer.abort()
        raise


def _verify(params: Mapping[str, Any], data: bytes) -> dict[str, str]:
    """Check Content-MD5 and x-amz-checksum-* against `data` (BadDigest / InvalidDigest); the checksums
    computed, by algorithm."""
    content_md5 = params.get("ContentMD5")
    if content_md5:
        try:
            expected = base64.b64decode(str(content_md5), validate=True)
        except (binascii.Error, ValueError):
            raise errors.invalid_digest() from None
        if len(expected) != 16:
            raise errors.invalid_digest()
        if expected != hashlib.md5(data).digest():
            raise errors.bad_digest("The Content-MD5 you specified did not match what we received.")
    sent = checksums.supplied(params)
    wanted = set(sent)
    named = str(params.get("ChecksumAlgorithm") or "").upper()
    if named in checksums.ALGORITHMS:
        wanted.add(named)
    computed = {algorithm: checksums.compute(algorithm, data) for algorithm in wanted}
    for algorithm, value in sent.items():
        if computed[algorithm] != value:
            raise errors.bad_digest(f"The {algorithm} you specified did not match the calculated checksum.")
    return computed


def _delete_quietly(blobs: BlobStore, blob_id: str) -> None:
    try:
        blobs.delete(blob_id)
    except Exception:  # a blob left behind is swept later; the request's outcome stands
        log.warning("could not delete blob %s", blob_id, exc_info=True)
