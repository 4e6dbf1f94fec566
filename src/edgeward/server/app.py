"""The ASGI application: adapts uvicorn's requests to the pipeline, plus edgeward's own endpoints."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from edgeward import __version__
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.protocol.restxml import StreamingResponse
from edgeward.protocol.router import warm_up
from edgeward.server import metrics
from edgeward.server.assembly import Service, assemble
from edgeward.server.config import Config
from edgeward.server.pipeline import Work
from edgeward.server.streaming import ClientDisconnected, send_streaming, stage_upload
from edgeward.server.writer import GroupWriter, WriterClosed

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("edgeward.server")


class BodyTooLarge(Exception):
    """The body passed the limit; `prefix` (its first chunks) still tells the router where it was going."""

    def __init__(self, prefix: bytes) -> None:
        super().__init__("request body too large")
        self.prefix = prefix


class EdgewardApp:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.service: Service | None = None
        self._executor: ThreadPoolExecutor | None = None  # PostgreSQL: requests run on these threads
        self._writer: GroupWriter | None = None  # SQLite: write requests are group-committed by this thread
        self._io: ThreadPoolExecutor | None = None  # blob reads and writes of streamed bodies
        self._prepare: ThreadPoolExecutor | None = None  # see `_prepare_executor`

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop_writer()
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        if self.service is None:
            warm_up()
            metrics.install()
            self.service = assemble(self.config)
            if self.service.db.dialect != "sqlite":
                self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="edgeward-db")
            else:
                self._writer = GroupWriter(self.service.db)
                self._writer.start()

    async def _stop_writer(self) -> None:
        """Drain the writer off the event loop, which resolves the replies of what is still queued."""
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.stop)

    def stop(self) -> None:
        if self._writer is not None:
            self._writer.stop()
        if self.service is not None:
            self.service.close()  # flushes the decision log, then disposes of the database
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        if self._io is not None:
            self._io.shutdown(wait=False)
        if self._prepare is not None:
            self._prepare.shutdown(wait=False)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.start()
        assert self.service is not None
        request = _request_from_scope(scope)
        if scope["path"].startswith("/_edgeward/"):
            await _send(send, await self._internal(request, receive))
            return
        if self.service.console is not None and _is_console(scope["path"], request):
            await self.service.console(scope, receive, send)
            return
        started = time.perf_counter()
        if request.method == "PUT":  # only S3 uploads stream, and they are PUTs: route before the body
            prepared = self.service.pipeline.prepare(request)
            if isinstance(prepared, Work) and prepared.streams_body:
                uploaded = await self._upload(prepared, receive)
                if uploaded is not None:
                    metrics.observe(request, prepared, uploaded, started)
                    await _send(send, uploaded)
                return
        try:
            request.body = await _read_body(receive, self.config.max_body_bytes)
        except BodyTooLarge as exc:
            request.body = exc.prefix
            refused = self.service.pipeline.refuse_too_large(request, self.config.max_body_bytes)
            metrics.observe(request, None, refused, started)
            await _send(send, refused)
            return
        response, work = await self._handle(request)
        metrics.observe(request, work, response, started)
        if isinstance(response, StreamingResponse):
            await send_streaming(send, receive, response, request.method == "HEAD", self._io_executor())
        else:
            await _send(send, response)

    async def _upload(self, work: Work, receive: Receive) -> HttpResponse | None:
        """PutObject / UploadPart: authenticate, stream the body into the blob store, then run the handler.
        None when the client went away mid-body (nothing to answer)."""
        try:
            refused = await stage_upload(work, receive, self._io_executor())
        except ClientDisconnected:
            log.info("client disconnected during upload %s %s; nothing kept", work.request.method, work.request.path)
            return None
        return refused if refused is not None else await self._run(work)

    def _prepare_executor(self) -> ThreadPoolExecutor:
        """Threads for the CPU-heavy parts of writes done before the writer (`Work.prepare_outside`): more
        than the cores, since key generation and signing release the GIL."""
        if self._prepare is None:
            self._prepare = ThreadPoolExecutor(max_workers=PREPARE_THREADS, thread_name_prefix="edgeward-prepare")
        return self._prepare

    def _io_executor(self) -> ThreadPoolExecutor:
        if self._io is None:
            self._io = ThreadPoolExecutor(max_workers=32, thread_name_prefix="edgeward-io")
        return self._io

    async def _handle(self, request: HttpRequest) -> tuple[HttpResponse, Work | None]:
        """The reply, and the routed unit of work behind it (None when routing already failed)."""
        assert self.service is not None
        prepared = self.service.pipeline.prepare(request)  # no database: fine on the event loop
        if isinstance(prepared, HttpResponse):
            return prepared, None
        if prepared.read_only and self._executor is None:
            return prepared.execute(), prepared
        return await self._run(prepared), prepared

    async def _run(self, work: Work) -> HttpResponse:
        """A routed request's database work: on the thread pool (PostgreSQL) or the group writer (SQLite)."""
        if self._executor is not None:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work.execute)
        return await self._write(work)

    async def _write(self, work: Work) -> HttpResponse:
        """SQLite: a write request joins the writer's next batch (inline once the writer has stopped)."""
        if self._writer is not None:
            if work.prepares_outside:
                await asyncio.get_running_loop().run_in_executor(self._prepare_executor(), work.prepare_outside)
                early = work.early_reply()
                if early is not None:
                    return early
            try:
                return await self._writer.submit(work)
            except WriterClosed:
                pass
        return work.execute()

    async def _internal(self, request: HttpRequest, receive: Receive) -> HttpResponse:
        assert self.service is not None
        path = request.path
        if path == "/_edgeward/health" and request.method in ("GET", "HEAD"):
            return _json(200, {"status": "ok", "version": __version__, "account": self.service.account})
        if path == "/_edgeward/reset" and request.method == "POST":
            if not self.config.dev:
                return _json(403, {"message": "POST /_edgeward/reset is only available in dev mode (--dev)."})
            await _read_body(receive, 0)
            self.service.reset()
            log.warning("dev mode: all state wiped by POST /_edgeward/reset")
            return _json(200, {"status": "reset"})
        if path == "/_edgeward/metrics" and request.method in ("GET", "HEAD"):
            return HttpResponse(200, [("content-type", metrics.CONTENT_TYPE)], metrics.exposition())
        if path == "/_edgeward/ca.pem" and request.method in ("GET", "HEAD"):
            from edgeward.server.ca import ca_bundle_response  # kept here: this method is the CA's one edit

            return ca_bundle_response(self.config)
        return _json(404, {"message": f"No edgeward endpoint {request.method} {path}."})


PREPARE_THREADS = 4
_SIGNED_QUERY = ("X-Amz-Signature=", "Signature=", "X-Amz-Credential=")


def _is_console(path: str, request: HttpRequest) -> bool:
    """The web console owns /console, for browsers: anything signed (an S3 bucket named `console`) is AWS's."""
    if path != "/console" and not path.startswith("/console/"):
        return False
    return "authorization" not in request.headers and not any(key in request.query_string for key in _SIGNED_QUERY)


def _request_from_scope(scope: Scope) -> HttpRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = scope.get("raw_path")
    path = raw_path.decode("utf-8", "replace") if raw_path else scope["path"]
    client = scope.get("client")
    return HttpRequest(
        method=scope["method"],
        raw_path=path.split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        scheme=scope.get("scheme", "http"),
        client_ip=client[0] if client else "",
    )


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(b"".join(chunks)[:65536])
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send: Send, response: HttpResponse) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if response.header("content-length") is None:
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    body = json.dumps(payload).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


def create_app() -> EdgewardApp:
    """uvicorn's factory for worker processes: the configuration travels in the environment."""
    return EdgewardApp(Config.from_env())
