"""A local container-credentials endpoint: the convention Greengrass uses, which every AWS SDK understands.

SDKs on the device set `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:<port>/credentials` and
`AWS_CONTAINER_AUTHORIZATION_TOKEN=<token>`; they GET the URI with the token in `Authorization` and receive
`{AccessKeyId, SecretAccessKey, Token, Expiration}`. Only loopback is served, and only with the token.
"""

from __future__ import annotations

import hmac
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from edgeward.agent.fetch import ProviderError, ProviderUnavailable
from edgeward.agent.refresh import CredentialSource

PATH = "/credentials"
log = logging.getLogger("edgeward.agent")


class ContainerCredentialsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, source: CredentialSource, token: str, port: int = 0, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the container credentials endpoint serves loopback only")
        super().__init__((host, port), _Handler)
        self.source = source
        self.token = token

    @property
    def uri(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"


class _Handler(BaseHTTPRequestHandler):
    server: ContainerCredentialsServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != PATH:
            self._reply(404, {"message": f"no such path; credentials are served at {PATH}"})
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            self._reply(401, {"message": "missing or wrong Authorization token"})
            return
        try:
            credentials = self.server.source.current()
        except (ProviderUnavailable, ProviderError) as exc:
            self._reply(503, {"message": str(exc)})
            return
        self._reply(200, credentials.to_container())

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("container credentials: " + format, *args)
