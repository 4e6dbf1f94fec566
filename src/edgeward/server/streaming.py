"""Bodies that stream through the ASGI app: S3 uploads into the blob store, GetObject downloads out of it.

An upload is authenticated from its headers before the body is read (so a refused request costs no disk, and
a client that sent `Expect: 100-continue` never gets its 100). The body is then received in ~1 MiB batches;
each batch is decoded, hashed and written by a worker thread while the event loop receives the next one, so
at most two batches per upload are in memory and the event loop never hashes or touches the disk. A client
that disconnects mid-upload leaves nothing: the blob is aborted and no handler runs.

A download is sent chunk by chunk, each chunk read from the blob store in a worker thread; uvicorn's flow
control holds `send` while the client is slow. It stops early when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Executor
from typing import Any

from edgeward.core.errors import internal_error
from edgeward.protocol.http import HttpResponse
from edgeward.protocol.restxml import StreamingResponse
from edgeward.server.pipeline import Work
from edgeward.server.staging import BodySink, plan_upload

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("edgeward.streaming")

BATCH_BYTES = 1024 * 1024


class ClientDisconnected(Exception):
    """The client went away before its upload's body ended."""


async def stage_upload(work: Work, receive: Receive, executor: Executor) -> HttpResponse | None:
    """Authenticate `work`'s request and stream its body into the blob store (`work.staged`).

    Returns the error response when the request fails, None when the work is ready to run; raises
    `ClientDisconnected` when there is nobody left to answer.
    """
    loop = asyncio.get_running_loop()
    pipeline = work.pipeline
    try:
        signing = await loop.run_in_executor(executor, pipeline.authenticate_upload, work)
        if pipeline.blobs is None:
            raise internal_error()
        plan = plan_upload(work.request, signing, trust_chunks=pipeline.dev)
        sink = BodySink(plan, await loop.run_in_executor(executor, pipeline.blobs.writer))
    except Exception as exc:
        return work.failed(exc)
    try:
        await _pump(receive, sink, loop, executor)
        work.staged = await loop.run_in_executor(executor, sink.finish)
    except ClientDisconnected:
        sink.abort()
        raise
    except BaseException as exc:  # also cancellation: never leave a half-written blob behind
        sink.abort()
        if not isinstance(exc, Exception):
            raise
        return work.failed(exc)
    return None


async def _pump(receive: Receive, sink: BodySink, loop: asyncio.AbstractEventLoop, executor: Executor) -> None:
    """Receive the body in batches; one batch is fed to the sink (in a thread) while the next arrives."""
    pending: asyncio.Future[None] | None = None
    batch: list[bytes] = []
    size = 0
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected()
            chunk = message.get("body", b"")
            if chunk:
                batch.append(chunk)
                size += len(chunk)
            more = bool(message.get("more_body", False))
            if size >= BATCH_BYTES or (batch and not more):
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(executor, sink.feed, b"".join(batch))
                batch, size = [], 0
            if not more:
                break
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None:  # the sink is not thread-safe: let the batch in flight finish first
            with contextlib.suppress(BaseException):
                await asyncio.shield(pending)


async def send_streaming(
    send: Send, receive: Receive, response: StreamingResponse, head_only: bool, executor: Executor
) -> None:
    """Send `response`'s headers, then its stream chunk by chunk (none for HEAD)."""
    stream = response.stream
    assert stream is not None
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    loop = asyncio.get_running_loop()
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if not head_only:
            chunks = iter(stream)
            while not gone.done():
                chunk = await loop.run_in_executor(executor, next, chunks, None)
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        gone.cancel()
        await loop.run_in_executor(executor, stream.close)


async def _disconnected(receive: Receive) -> None:
    """Returns once the client has gone (the request body has already been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass
