"""One credentials request as a unit of database work, and its reply in AWS's format (spec 1.3-1.4).

`ExchangeWork` fits the group-commit writer (`run` in a savepoint of a batch, `finish`/`failed` after the
COMMIT), so on SQLite the new session rows of many devices are made durable by one fsync; on PostgreSQL
`execute` runs it in its own transaction on a worker thread. Either way the reply leaves only after the
session it carries has been committed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import Connection

from edgeward.core import ids
from edgeward.credentials.errors import ProviderError
from edgeward.credentials.exchange import exchange
from edgeward.credentials.request import CredentialsRequest
from edgeward.protocol.http import HttpResponse
from edgeward.services import metrics
from edgeward.services.sts.credentials import Credentials, Material
from edgeward.storage.database import Database
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.mtls")

JSON = "application/json"


@dataclass(slots=True)
class ExchangeWork:
    box: SecretBox
    region: str
    request: CredentialsRequest
    request_id: str
    _credentials: Credentials | None = None
    _material: Material | None = None

    def before_transaction(self) -> None:
        """The new session's key, secret and token, sealed, before the exchange waits for the group writer
        (random bytes, AES-GCM and SHA-256 need no database; the writer's time is every writer's wait)."""
        if self._material is None:
            self._material = Material.new(self.box)

    def run(self, conn: Connection) -> None:
        self._credentials = exchange(conn, self.box, self.request, region=self.region, material=self._material)

    def finish(self) -> HttpResponse:
        assert self._credentials is not None
        metrics.credential_exchange("issued")
        return credentials_response(self._credentials, self.request_id)

    def failed(self, exc: BaseException) -> HttpResponse:
        if isinstance(exc, ProviderError):
            metrics.credential_exchange(exc.error_type)
            return error_response(exc.status, exc.message, exc.error_type, self.request_id)
        log.error("credentials exchange failed (request %s)", self.request_id, exc_info=exc)
        metrics.credential_exchange("InternalFailureException")
        return error_response(500, "Internal Failure", "InternalFailureException", self.request_id)

    def execute(self, db: Database) -> HttpResponse:
        """The whole exchange in its own write transaction, committed before the reply is built."""
        try:
            with db.transaction() as conn:
                self.run(conn)
        except Exception as exc:
            return self.failed(exc)
        return self.finish()


def new_work(box: SecretBox, region: str, request: CredentialsRequest) -> ExchangeWork:
    return ExchangeWork(box, region, request, ids.request_id())


def credentials_response(credentials: Credentials, request_id: str) -> HttpResponse:
    """`{"credentials": {...}}`: four lowerCamel fields, `expiration` in UTC without fractional seconds."""
    body = {
        "credentials": {
            "accessKeyId": credentials.access_key_id,
            "secretAccessKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
            "expiration": credentials.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    }
    return HttpResponse(200, _headers(request_id), json.dumps(body, separators=(",", ":")).encode())


def error_response(status: int, message: str, error_type: str, request_id: str) -> HttpResponse:
    headers = [*_headers(request_id), ("x-amzn-ErrorType", error_type)]
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("content-type", JSON), ("x-amzn-RequestId", request_id)]


def refusal(error: ProviderError) -> HttpResponse:
    metrics.credential_exchange(error.error_type)
    return error_response(error.status, error.message, error.error_type, ids.request_id())
