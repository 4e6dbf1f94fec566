"""HTTP/1.1 over the credentials provider's TLS connections: keep-alive, pipelining, bounded input.

Why not uvicorn: ASGI servers do not hand the application the client certificate of the TLS session, and
the certificate *is* the caller here. So the listener is an asyncio server of its own whose TLS context
requires a client certificate (`mtls_tls`); each connection's certificate is read from its SSL object and
its requests are parsed with httptools (the C parser uvicorn uses too). Requests are answered one at a
time in the order they came (pipelined requests wait their turn), so replies can never interleave.

Limits: a handshake must finish within `HANDSHAKE_TIMEOUT`, a connection idle for `IDLE_TIMEOUT` is closed,
a request head over `MAX_HEAD_BYTES` gets 431 and a body over `MAX_BODY_BYTES` 413 (a GET carries none),
both followed by closing the connection: after unparseable input the stream cannot be trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

import httptools

from edgeward.protocol.http import HttpResponse
from edgeward.server import logs
from edgeward.server.mtls_tls import HANDSHAKE_TIMEOUT

log = logging.getLogger("edgeward.mtls")

IDLE_TIMEOUT = 60.0
MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Peer:
    """The client of a connection: its certificate (DER) and AWS's id for it (SHA-256 of the DER)."""

    certificate_der: bytes
    certificate_id: str
    address: str


@dataclass(slots=True)
class ParsedRequest:
    method: str
    target: str
    headers: dict[str, str]
    keep_alive: bool

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


Handler = Callable[[Peer, ParsedRequest], Awaitable[HttpResponse]]


class _InputTooLarge(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class _Requests:
    """httptools' callback target: collects complete requests, enforcing the size limits as bytes arrive."""

    ready: deque[ParsedRequest] = field(default_factory=deque)
    parser: httptools.HttpRequestParser | None = None
    _target: bytearray = field(default_factory=bytearray)
    _headers: dict[str, str] = field(default_factory=dict)
    _head_bytes: int = 0
    _body_bytes: int = 0

    def on_message_begin(self) -> None:
        self._target = bytearray()
        self._headers = {}
        self._head_bytes = 0
        self._body_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._target += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]},{text}" if key in self._headers else text

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > MAX_BODY_BYTES:
            raise _InputTooLarge(413)

    def on_message_complete(self) -> None:
        assert self.parser is not None
        self.ready.append(
            ParsedRequest(
                method=self.parser.get_method().decode("ascii", "replace"),
                target=self._target.decode("latin-1"),
                headers=self._headers,
                keep_alive=bool(self.parser.should_keep_alive()),
            )
        )

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            raise _InputTooLarge(431)


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler) -> None:
    """One client connection, TLS already established (the server's context required a client certificate)."""
    peer = _peer(writer)
    try:
        if peer is not None:
            await _exchange_requests(reader, writer, peer, handler)
    except (ConnectionError, ssl.SSLError, TimeoutError):
        pass  # the client went away or stalled: nothing to answer
    finally:
        await _close(writer)


def _peer(writer: asyncio.StreamWriter) -> Peer | None:
    ssl_object = writer.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:  # CERT_REQUIRED makes this impossible; refuse rather than trust it
        return None
    peername = writer.get_extra_info("peername")
    return Peer(der, hashlib.sha256(der).hexdigest(), str(peername[0]) if peername else "")


async def _exchange_requests(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer, handler: Handler
) -> None:
    requests = _Requests()
    parser = httptools.HttpRequestParser(requests)
    requests.parser = parser
    while True:
        if not requests.ready:
            async with asyncio.timeout(IDLE_TIMEOUT):
                data = await reader.read(READ_SIZE)
            if not data:
                return
            refusal = _feed(parser, data)
            if refusal is not None:
                writer.write(encode_response(refusal, keep_alive=False))
                await writer.drain()
                return
            continue
        request = requests.ready.popleft()
        started = time.perf_counter()
        response = await handler(peer, request)
        _access_line(peer, request, response, time.perf_counter() - started)
        writer.write(encode_response(response, keep_alive=request.keep_alive))
        await writer.drain()
        if not request.keep_alive:
            return


def _access_line(peer: Peer, request: ParsedRequest, response: HttpResponse, seconds: float) -> None:
    """The access-log line of one exchange, like the API's; the caller is the certificate's id."""
    request_id = next((value for name, value in response.headers if name == "x-amzn-RequestId"), "-")
    logs.request_line(
        request_id,
        "credentials-iot",
        "AssumeRoleWithCertificate",
        response.status,
        seconds,
        f"cert/{peer.certificate_id}",
        request.method,
        request.path,
    )


def _feed(parser: httptools.HttpRequestParser, data: bytes) -> HttpResponse | None:
    """Parse `data`; the reply that ends the connection when it is not acceptable HTTP/1.1."""
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        return plain_error(400, "Bad Request")
    except httptools.HttpParserError as exc:
        cause = exc.__context__ or exc.__cause__
        if isinstance(cause, _InputTooLarge):
            status = cause.status
            return plain_error(status, HTTPStatus(status).phrase)
        return plain_error(400, "Bad Request")
    except _InputTooLarge as exc:
        return plain_error(exc.status, HTTPStatus(exc.status).phrase)
    return None


def plain_error(status: int, message: str) -> HttpResponse:
    body = b'{"message":"' + message.encode("ascii") + b'"}'
    return HttpResponse(status, [("content-type", "application/json")], body)


_date_cache: tuple[int, bytes] = (0, b"")


def _date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _date_cache[1]


def encode_response(response: HttpResponse, *, keep_alive: bool) -> bytes:
    """The response on the wire: status line, headers (content-length, date, connection), body."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {response.status} {reason}".encode("ascii")]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in response.headers]
    lines.append(b"content-length: %d" % len(response.body))
    lines.append(b"date: " + _date())
    if not keep_alive:
        lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + response.body


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            await writer.wait_closed()
