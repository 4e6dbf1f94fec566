"""The agent's calls to edgeward's APIs with its temporary credentials: the Edge Manager data plane
(`sagemaker-edge`, rest-json, signed as `sagemaker`) and S3 (path-style GET/PUT of objects)."""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from edgeward.agent.credentials import Credentials
from edgeward.agent.sigv4 import sign

TIMEOUT_S = 30.0
CHUNK = 1024 * 1024


class ApiError(Exception):
    """An AWS-style error answer: code and message as the server sent them."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code
        self.message = message


class ApiClient:
    def __init__(
        self,
        base_url: str,
        region: str,
        credentials: Callable[[], Credentials],
        *,
        ca: Path | None = None,
        timeout: float = TIMEOUT_S,
    ) -> None:
        url = urlsplit(base_url)
        self._https = url.scheme == "https"
        self._host = url.netloc
        self._hostname = url.hostname or "localhost"
        self._port = url.port or (443 if self._https else 80)
        self._region = region
        self._credentials = credentials
        self._timeout = timeout
        self._context = ssl.create_default_context(cafile=str(ca) if ca else None) if self._https else None
        self._local = threading.local()

    def edge(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """`POST /<Operation>` of the sagemaker-edge API."""
        body = json.dumps(payload, default=_json_default).encode()
        status, headers, data = self._send(
            "POST", f"/{operation}", {}, {"content-type": "application/json"}, body, "sagemaker"
        )
        if status >= 300:
            raise _edge_error(status, headers, data)
        return json.loads(data) if data else {}

    def get_object(self, bucket: str, key: str, target: Path) -> str:
        """Download to `target`; returns the SHA-1 hex of what was written (Edge Manager's model checksum)."""
        response = self._request("GET", _object_path(bucket, key), {}, {}, b"", "s3")
        if response.status != 200:
            raise _s3_error(response.status, response.read())
        digest = hashlib.sha1()  # the checksum type Edge Manager deployments carry
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as handle:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                handle.write(chunk)
        partial.replace(target)
        return digest.hexdigest()

    def put_object(self, bucket: str, key: str, data: bytes) -> None:
        status, _headers, body = self._send("PUT", _object_path(bucket, key), {}, {}, data, "s3")
        if status != 200:
            raise _s3_error(status, body)

    def _send(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, service: str
    ) -> tuple[int, dict[str, str], bytes]:
        response = self._request(method, path, query, headers, body, service)
        try:
            data = response.read()
        except (OSError, http.client.HTTPException):
            self._drop()
            raise
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def _request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, service: str
    ) -> http.client.HTTPResponse:
        signed = sign(
            method,
            self._host,
            path,
            query,
            headers,
            body,
            credentials=self._credentials(),
            region=self._region,
            service=service,
        )
        target = path + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()) if query else "")
        connection = self._connection()
        try:
            connection.request(method, target, body=body, headers=signed)
            return connection.getresponse()
        except (OSError, http.client.HTTPException):
            self._drop()
            raise

    def _drop(self) -> None:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._hostname, self._port, timeout=self._timeout, context=self._context
                )
            else:
                connection = http.client.HTTPConnection(self._hostname, self._port, timeout=self._timeout)
            self._local.connection = connection
        return connection


def _object_path(bucket: str, key: str) -> str:
    return f"/{quote(bucket, safe='')}/{quote(key, safe='/-_.~')}"


def _edge_error(status: int, headers: dict[str, str], data: bytes) -> ApiError:
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        body = {}
    code = headers.get("x-amzn-errortype", "").split(":", 1)[0] or str(body.get("__type", status))
    return ApiError(status, code, str(body.get("message") or body.get("Message") or ""))


def _s3_error(status: int, data: bytes) -> ApiError:
    text = data.decode("utf-8", "replace")
    code = _between(text, "<Code>", "</Code>") or str(status)
    return ApiError(status, code, _between(text, "<Message>", "</Message>"))


def _between(text: str, start: str, end: str) -> str:
    _, _, rest = text.partition(start)
    return rest.partition(end)[0] if rest else ""


def _json_default(value: object) -> object:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot encode {type(value).__name__}")
