"""The application `edgeward serve` runs: the API (`app.EdgewardApp`) plus the credentials provider.

The API's lifespan is left as it is; this wrapper starts the mTLS listener once the API has started (so it
shares the worker's database and secret box) and stops it before the API stops. A listener that cannot
start stops the worker when the operator chose `--mtls-port`; with the default port the API keeps serving
and the reason is logged, so a second server on one machine does not take the first one's port.
"""

from __future__ import annotations

import logging
from typing import Any

from edgeward.server.app import EdgewardApp, Message, Receive, Scope, Send
from edgeward.server.config import Config

log = logging.getLogger("edgeward.mtls")


class EdgewardServer:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.api = EdgewardApp(config)
        self.listener: Any = None  # mtls_listener.CredentialsListener once started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" or self.config.mtls_port <= 0:
            await self.api(scope, receive, send)
            return

        async def send_after_startup(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                failure = await self._start_listener()
                if failure is not None:
                    await send({"type": "lifespan.startup.failed", "message": failure})
                    return
            await send(message)

        async def receive_stopping_first() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self._stop_listener()
            return message

        await self.api(scope, receive_stopping_first, send_after_startup)

    async def _start_listener(self) -> str | None:
        """Start the listener; the reason to stop the worker when it must run and cannot."""
        service = self.api.service
        assert service is not None
        try:
            from edgeward.server.mtls_listener import CredentialsListener

            listener = CredentialsListener(self.config, service.db, service.box)
            await listener.start()
        except Exception as exc:
            reason = f"the credentials provider (mTLS, port {self.config.mtls_port}) cannot start: {exc}"
            if self.config.mtls_required:
                log.error("%s", reason)
                return reason
            log.error("%s; serving the AWS APIs without it", reason, exc_info=not isinstance(exc, OSError))
            return None
        self.listener = listener
        return None

    async def _stop_listener(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None


def create_app() -> EdgewardServer:
    """uvicorn's factory for worker processes: the configuration travels in the environment."""
    return EdgewardServer(Config.from_env())
