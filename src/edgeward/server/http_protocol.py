"""uvicorn's httptools protocol, with a reply's head and body sent in one write.

uvicorn writes the status line and headers (`http.response.start`) and then the body (`http.response.body`)
with two `transport.write` calls, and uvloop sends each at once: two `send()` system calls and two TCP
segments per reply. On a small API reply the second costs about as much as a quarter of all the work the
server does for the request (measured with `bench/hotpath_cpu.py --http`, py-spy). This protocol hands
uvicorn a transport whose writes made during one step of the event loop are joined and sent together at
the end of that step (`loop.call_soon`): a reply built in one step leaves in one write. Order is kept,
`close()` and `write_eof()` send what is pending first, and streamed bodies still leave step by step.

`edgeward serve` passes it to uvicorn as `http=`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport whose `write`s within one event-loop step go out as one; everything else is delegated."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._pending is None:
            self._pending = [bytes(data)]
            self._loop.call_soon(self.flush)
        else:
            self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        pending = sum(len(data) for data in self._pending) if self._pending else 0
        return int(self._transport.get_write_buffer_size()) + pending

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
