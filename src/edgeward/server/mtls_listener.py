"""The credentials provider's listener: its own port (`--mtls-port`), in every API worker process.

It runs on the worker's event loop, next to uvicorn, started and stopped by the ASGI lifespan
(`mtls_app`): the worker already holds the database pool, the secret box and a thread for SQLite writes,
and with `--workers N` every worker binds the port with SO_REUSEPORT, so the kernel spreads handshakes (the
costly part) over all processes. A separate process would need all of that again for nothing.

Database work never runs on the event loop: on SQLite each exchange joins a group-commit batch of this
listener's writer thread (`server.writer.GroupWriter`, which takes the cross-process write lock); on
PostgreSQL it runs on a thread pool in its own transaction. Once a second the set of trusted certificates
is re-read (`credentials.anchors`) and, when it changed, new connections get a context built for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from concurrent.futures import ThreadPoolExecutor

from edgeward.credentials.anchors import TrustAnchors, edgeward_authorities, load_trust_anchors
from edgeward.credentials.request import THING_NAME_HEADER, CredentialsRequest, role_alias_in_path
from edgeward.protocol.http import HttpResponse
from edgeward.server.ca import listener_hosts, server_certificate
from edgeward.server.config import Config
from edgeward.server.mtls_exchange import new_work
from edgeward.server.mtls_http import ParsedRequest, Peer, plain_error, serve_connection
from edgeward.server.mtls_tls import HANDSHAKE_TIMEOUT, ListenerTls
from edgeward.server.writer import GroupWriter, WriterClosed
from edgeward.storage.database import Database
from edgeward.storage.repos.authorities import load_authorities
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.mtls")

ANCHOR_POLL_SECONDS = 1.0
BACKLOG = 1024


class ListenerError(RuntimeError):
    """The listener cannot start (no CA yet, port taken, ...)."""


class CredentialsListener:
    def __init__(self, config: Config, db: Database, box: SecretBox) -> None:
        self._config = config
        self._db = db
        self._box = box
        self._tls: ListenerTls | None = None
        self._own_anchors: list[str] = []
        self._server: asyncio.Server | None = None
        self._poller: asyncio.Task[None] | None = None
        self._writer: GroupWriter | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="edgeward-mtls")
        chain_pem, key_pem, anchors = await loop.run_in_executor(self._executor, self._load_tls)
        self._tls = ListenerTls(chain_pem, key_pem, anchors)
        if self._db.dialect == "sqlite":
            self._writer = GroupWriter(self._db)
            self._writer.start()
        self._server = await asyncio.start_server(
            self._connection,
            sock=self._bind(),
            backlog=BACKLOG,
            ssl=self._tls.context,
            ssl_handshake_timeout=HANDSHAKE_TIMEOUT,
        )
        self._poller = loop.create_task(self._poll_anchors())
        log.info("credentials provider listening on %s:%d (mutual TLS)", self._config.host, self.port)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        loop = asyncio.get_running_loop()
        if self._writer is not None:
            await loop.run_in_executor(None, self._writer.stop)
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    # -- set-up ------------------------------------------------------------------------------------

    def _load_tls(self) -> tuple[bytes, bytes, TrustAnchors]:
        with self._db.read() as conn:
            authorities = load_authorities(conn, self._box)
            if authorities is None:
                raise ListenerError("edgeward's certificate authority does not exist yet")
            self._own_anchors = edgeward_authorities(conn, self._box)
            anchors = load_trust_anchors(conn, self._own_anchors)
        chain_pem, key_pem = server_certificate(authorities, listener_hosts(self._config))
        return chain_pem, key_pem, anchors

    def _bind(self) -> socket.socket:
        """The listening socket; with several workers each binds it with SO_REUSEPORT."""
        config = self._config
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if config.workers > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((config.host, config.mtls_port))
        except OSError as exc:
            sock.close()
            raise ListenerError(f"cannot listen on {config.host}:{config.mtls_port}: {exc.strerror or exc}") from exc
        sock.setblocking(False)
        return sock

    async def _poll_anchors(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(ANCHOR_POLL_SECONDS)
            try:
                anchors = await loop.run_in_executor(self._executor, self._read_anchors)
                assert self._tls is not None
                if self._tls.update(anchors):
                    log.info("trusted client certificates changed: %d anchors", len(anchors.pems))
            except Exception:  # a database hiccup must not end the poller; the old set stays in force
                log.exception("could not refresh the trusted client certificates")

    def _read_anchors(self) -> TrustAnchors:
        with self._db.read() as conn:
            return load_trust_anchors(conn, self._own_anchors)

    # -- requests ----------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # remembered so that stopping can end idle keep-alive connections
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)
        await serve_connection(reader, writer, self._handle)

    async def _handle(self, peer: Peer, request: ParsedRequest) -> HttpResponse:
        alias = role_alias_in_path(request.path)
        if alias is None:
            return plain_error(404, "Not Found")
        if request.method != "GET":
            response = plain_error(405, "Method Not Allowed")
            response.headers.append(("allow", "GET"))
            return response
        thing_name = request.headers.get(THING_NAME_HEADER)
        credentials_request = CredentialsRequest(peer.certificate_id, peer.certificate_der, alias, thing_name)
        work = new_work(self._box, self._config.region, credentials_request)
        if self._writer is not None:
            with contextlib.suppress(WriterClosed):
                return await self._writer.submit(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work.execute, self._db)
