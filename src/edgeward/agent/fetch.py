"""One exchange with the credentials provider: the device certificate over mutual TLS, temporary credentials back.

The connection is kept open between exchanges (HTTP/1.1 keep-alive), so a refresh needs no new handshake.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from urllib.parse import urlsplit

from edgeward.agent.config import AgentConfig
from edgeward.agent.credentials import Credentials, CredentialsFormatError

TIMEOUT_S = 10.0


class ProviderError(Exception):
    """The provider refused (a 4xx/5xx with AWS's message); retrying will not help unless something changes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"credentials provider refused ({status}): {message}")
        self.status = status
        self.message = message


class ProviderUnavailable(Exception):
    """The provider could not be reached or the TLS handshake failed; worth retrying later."""


def tls_context(config: AgentConfig) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=str(config.ca))
        context.load_cert_chain(certfile=str(config.certificate), keyfile=str(config.private_key))
    except (OSError, ssl.SSLError) as exc:
        raise ProviderUnavailable(f"cannot load the device certificate, key or CA: {exc}") from None
    return context


class CredentialsClient:
    """Fetches credentials for one configuration, reusing its connection."""

    def __init__(self, config: AgentConfig, *, timeout: float = TIMEOUT_S) -> None:
        self.config = config
        self._url = urlsplit(config.credentials_url)
        self._context = tls_context(config)
        self._timeout = timeout
        self._connection: http.client.HTTPSConnection | None = None
        self._lock = threading.Lock()

    def fetch(self) -> Credentials:
        with self._lock:
            try:
                return self._exchange()
            except (ProviderError, CredentialsFormatError):
                raise
            except (OSError, http.client.HTTPException) as exc:
                self.close_locked()
                raise ProviderUnavailable(f"cannot reach {self._url.netloc}: {exc}") from None

    def _exchange(self) -> Credentials:
        connection = self._connect()
        headers = {"Accept": "application/json"}
        if self.config.thing_name:
            headers["x-amzn-iot-thingname"] = self.config.thing_name
        try:
            connection.request("GET", self._url.path or "/", headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            # A kept-alive connection the server closed meanwhile: one fresh attempt.
            self.close_locked()
            connection = self._connect()
            connection.request("GET", self._url.path or "/", headers=headers)
            response = connection.getresponse()
            body = response.read()
        if response.will_close:
            self.close_locked()
        if response.status != 200:
            raise ProviderError(response.status, _message(body))
        try:
            return Credentials.from_provider(json.loads(body))
        except ValueError:
            raise CredentialsFormatError("the credentials response is not JSON") from None

    def _connect(self) -> http.client.HTTPSConnection:
        if self._connection is None:
            self._connection = http.client.HTTPSConnection(
                self._url.hostname or "", self._url.port or 443, timeout=self._timeout, context=self._context
            )
        return self._connection

    def close_locked(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:200] or "no message"
    if isinstance(data, dict):
        return str(data.get("message") or data.get("Message") or data)
    return str(data)
