"""One request, end to end: route, authenticate, parse, authorize + handle in a transaction, serialize."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from edgeward.core import ids
from edgeward.core.errors import ServiceError, internal_error, not_implemented
from edgeward.core.principal import Principal
from edgeward.protocol import faults
from edgeward.protocol.auth_errors import auth_error
from edgeward.protocol.codec import Codec, Route
from edgeward.protocol.codecs import codec_for
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.protocol.router import RouteError, resolve
from edgeward.protocol.sigv4 import AuthFailure, SignedRequest, missing, read_signature
from edgeward.server.authn import Authenticator, root_principal
from edgeward.services.context import Authorizer, Context, Handler
from edgeward.services.errors import unauthorized_handler
from edgeward.services.policy_cache import note_operation
from edgeward.services.registry import OPEN_OPERATIONS, handler_for, is_read_only
from edgeward.storage.database import Database
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.request")


@dataclass(frozen=True, slots=True)
class Pipeline:
    db: Database
    box: SecretBox
    authenticator: Authenticator
    authorizer: Authorizer
    default_region: str
    dev: bool = False

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = ids.request_id()
        service = "s3"
        try:
            signed, failure = _read_signature(request)
            route = resolve(request, signed.service if signed else None)
            service = route.service
            if failure is not None:
                raise auth_error(service, failure)
            response = self._dispatch(request, route, signed, request_id)
        except RouteError as exc:
            service = exc.service
            response = _error(codec_for(service), exc.error, request_id, request.method)
        except ServiceError as exc:
            response = _error(codec_for(service), exc, request_id, request.method)
        except Exception:
            log.exception("internal error handling %s %s (request %s)", request.method, request.raw_path, request_id)
            response = _error(codec_for(service), internal_error(), request_id, request.method)
        return response

    def refuse_too_large(self, request: HttpRequest, limit: int) -> HttpResponse:
        """A body over the limit: answered in the protocol of the service it was meant for."""
        signed, _ = _read_signature(request)
        try:
            service = resolve(request, signed.service if signed else None).service
        except RouteError as exc:
            service = exc.service
        return _error(codec_for(service), faults.too_large(service, limit), ids.request_id(), request.method)

    def _dispatch(
        self, request: HttpRequest, route: Route, signed: SignedRequest | None, request_id: str
    ) -> HttpResponse:
        """One connection per request: authentication, parsing and the handler share it. Reads run in a
        read-only transaction; anything else in one write transaction, committed before the reply is built."""
        codec = codec_for(route.service)
        read_only = is_read_only(route.service, route.operation)
        now = time.time()
        with self.db.read() if read_only else self.db.transaction() as conn:
            principal = self._authenticate(conn, request, route, signed, now)
            params = codec.parse(route, request)
            handler = handler_for(route.service, route.operation)
            if handler is None:
                raise not_implemented(route.service, route.operation)
            region = signed.region if signed else self.default_region
            output = self._run(conn, handler, principal, route, params, region, request, request_id)
        if signed is not None and not self.dev:
            self.authenticator.note_use(signed, now)
        return codec.serialize(route, output, request_id)

    def _authenticate(
        self, conn: Connection, request: HttpRequest, route: Route, signed: SignedRequest | None, now: float
    ) -> Principal:
        if self.dev:
            return root_principal(self.authenticator.account, signed.access_key_id if signed else "")
        if signed is None:
            raise auth_error(route.service, missing())
        try:
            return self.authenticator.authenticate(conn, request, signed, now)
        except AuthFailure as failure:
            raise auth_error(route.service, failure) from None

    def _run(
        self,
        conn: Connection,
        handler: Handler,
        principal: Principal,
        route: Route,
        params: dict[str, Any],
        region: str,
        request: HttpRequest,
        request_id: str,
    ) -> dict[str, Any]:
        ctx = Context(
            principal=principal,
            region=region,
            request_id=request_id,
            service=route.service,
            operation=route.operation,
            conn=conn,
            secrets=self.box,
            authorizer=self.authorizer,
            source_ip=request.client_ip,
            secure=request.scheme == "https",
        )
        output: dict[str, Any] = handler(ctx, params)
        if not ctx.authorized and (route.service, route.operation) not in OPEN_OPERATIONS:
            log.error("handler %s:%s made no authorization check", route.service, route.operation)
            raise unauthorized_handler(route.service, route.operation)
        note_operation(conn, route.service, route.operation)  # IAM writes invalidate every node's policy cache
        return output


def _read_signature(request: HttpRequest) -> tuple[SignedRequest | None, AuthFailure | None]:
    try:
        return read_signature(request), None
    except AuthFailure as failure:
        return None, failure


def _error(codec: Codec, error: ServiceError, request_id: str, method: str) -> HttpResponse:
    serialize_for = getattr(codec, "serialize_error_for", None)
    if serialize_for is not None:
        response: HttpResponse = serialize_for(error, request_id, method)
        return response
    return codec.serialize_error(error, request_id)
