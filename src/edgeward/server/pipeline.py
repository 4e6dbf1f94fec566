"""One request, end to end: route, authenticate, parse, authorize + handle in a transaction, serialize.

S3 uploads (PutObject, UploadPart) differ in one way: their body streams. The server authenticates them from
the headers first (`authenticate_upload`, before a byte of the body is read), stages the body into the blob
store (`server.streaming`), and only then runs the handler with `params["Body"]` a `StagedBody`. A staged
blob whose request fails, or whose transaction does not commit, is deleted again; callables a handler puts in
`ctx.extras["after_commit"]` (blobs no longer referenced) run only after its transaction committed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from edgeward.core import ids
from edgeward.core.errors import ServiceError, internal_error, not_implemented
from edgeward.core.payload import StagedBody
from edgeward.core.principal import Principal
from edgeward.protocol import faults
from edgeward.protocol.auth_errors import auth_error
from edgeward.protocol.awschunked import ChunkSigning
from edgeward.protocol.codec import Codec, Route
from edgeward.protocol.codecs import codec_for
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.protocol.router import RouteError, bucket_from_host, resolve
from edgeward.protocol.sigv4 import (
    AuthFailure,
    SignedRequest,
    defer_payload_check,
    missing,
    read_signature,
    verified_signing_key,
)
from edgeward.server.authn import Authenticator, root_principal
from edgeward.services.context import PREPARED, Authorizer, Context, Handler
from edgeward.services.errors import unauthorized_handler
from edgeward.services.policy_cache import note_operation
from edgeward.services.registry import OPEN_OPERATIONS, handler_for, is_read_only, preparer_for
from edgeward.storage.blobs import BlobStore
from edgeward.storage.database import Database
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.request")

# Operations whose request body streams into the blob store instead of being read into memory.
STREAMING_UPLOADS = frozenset({("s3", "PutObject"), ("s3", "UploadPart")})
AfterCommit = Callable[[], object]


@dataclass(frozen=True, slots=True)
class Pipeline:
    db: Database
    box: SecretBox
    authenticator: Authenticator
    authorizer: Authorizer
    default_region: str
    dev: bool = False
    endpoints: Mapping[str, str] = field(default_factory=dict)
    blobs: BlobStore | None = None
    # Host names under which `<bucket>.<name>` addresses a bucket (virtual-hosted-style S3), besides AWS's own.
    bucket_hosts: tuple[str, ...] = ("localhost",)

    def handle(self, request: HttpRequest) -> HttpResponse:
        """The whole request inline: its own read-only or write transaction, committed before the reply."""
        prepared = self.prepare(request)
        if isinstance(prepared, HttpResponse):
            return prepared
        return prepared.execute()

    def prepare(self, request: HttpRequest) -> HttpResponse | Work:
        """What needs no database: the signature's claims and the route. Answers the request when that already
        fails; otherwise returns its unit of work, to run inline (`Work.execute`) or in a caller's transaction."""
        request_id = ids.request_id()
        service = "s3"
        try:
            signed, failure = _read_signature(request)
            bucket = bucket_from_host(request.host, self.bucket_hosts)
            route = resolve(request, signed.service if signed else None, bucket_from_host=bucket)
            service = route.service
            if failure is not None:
                raise auth_error(service, failure)
            if bucket is not None and signed is not None and signed.version == 2:
                signed = dataclasses.replace(signed, virtual_bucket=bucket)
        except Exception as exc:
            return self.failure(exc, request, service, request_id)
        return Work(self, request, request_id, route, signed, is_read_only(route.service, route.operation))

    def authenticate_upload(self, work: Work) -> ChunkSigning | None:
        """A streaming upload's authentication, from its headers alone, in a short read transaction of its
        own; the principal is kept on `work`. Returns what chains the chunk signatures of a signed
        aws-chunked body. Raises the request's error."""
        request, signed = work.request, work.signed
        defer_payload_check(request)  # the body's SHA-256 is compared while it streams
        with self.db.read() as conn:
            work.authenticate(conn)
        if signed is None or signed.version != 4 or self.dev:
            return None
        key = verified_signing_key(request, signed)
        return None if key is None else ChunkSigning(key, signed.amz_date, signed.scope, signed.signature)

    def failure(self, exc: BaseException, request: HttpRequest, service: str, request_id: str) -> HttpResponse:
        """The error response for what a request raised, in its protocol; anything unexpected is logged."""
        if isinstance(exc, RouteError):
            return _error(codec_for(exc.service), exc.error, request_id, request.method)
        if isinstance(exc, ServiceError):
            return _error(codec_for(service), exc, request_id, request.method)
        log.error(
            "internal error handling %s %s (request %s)",
            request.method,
            request.raw_path,
            request_id,
            exc_info=exc,
        )
        return _error(codec_for(service), internal_error(), request_id, request.method)

    def refuse_too_large(self, request: HttpRequest, limit: int) -> HttpResponse:
        """A body over the limit: answered in the protocol of the service it was meant for."""
        signed, _ = _read_signature(request)
        try:
            bucket = bucket_from_host(request.host, self.bucket_hosts)
            service = resolve(request, signed.service if signed else None, bucket_from_host=bucket).service
        except RouteError as exc:
            service = exc.service
        return _error(codec_for(service), faults.too_large(service, limit), ids.request_id(), request.method)

    def run_handler(
        self,
        conn: Connection,
        request: HttpRequest,
        route: Route,
        signed: SignedRequest | None,
        request_id: str,
        principal: Principal,
        staged: StagedBody | None = None,
        parsed: Parsed | None = None,
        prepared: object | None = None,
    ) -> tuple[dict[str, Any], list[AfterCommit]]:
        """Parsing and the handler for an authenticated request; `staged` is a streamed upload's body,
        `prepared` what the operation's preparer made before the transaction. Returns the output and what
        the handler asked to run once its transaction has committed."""
        params = codec_for(route.service).parse(route, request) if parsed is None else parsed.result()
        if staged is not None:
            params["Body"] = staged
        handler = handler_for(route.service, route.operation)
        if handler is None:
            raise not_implemented(route.service, route.operation)
        params.pop(PREPARED, None)  # only the pipeline puts it there, never a request
        if prepared is not None:
            params[PREPARED] = prepared
        region = self.region_of(signed)
        return self._run(conn, handler, principal, route, params, region, request, request_id, prepared is not None)

    def after_commit(self, signed: SignedRequest | None, now: float) -> None:
        if signed is not None and not self.dev:
            self.authenticator.note_use(signed, now)

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
        authorized: bool = False,
    ) -> tuple[dict[str, Any], list[AfterCommit]]:
        ctx = self.context(conn, principal, route, region, request, request_id)
        ctx.authorized = authorized  # True: authorized when it was prepared, moments ago (`Work.prepare_outside`)
        output: dict[str, Any] = handler(ctx, params)
        if not ctx.authorized and (route.service, route.operation) not in OPEN_OPERATIONS:
            log.error("handler %s:%s made no authorization check", route.service, route.operation)
            raise unauthorized_handler(route.service, route.operation)
        note_operation(conn, route.service, route.operation)  # IAM writes invalidate every node's policy cache
        return output, list(ctx.extras.get("after_commit", ()))

    def context(
        self, conn: Connection, principal: Principal, route: Route, region: str, request: HttpRequest, request_id: str
    ) -> Context:
        return Context(
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
            endpoints=self.endpoints,
            blobs=self.blobs,
        )

    def region_of(self, signed: SignedRequest | None) -> str:
        return signed.region if signed is not None and signed.region else self.default_region


@dataclass(slots=True)
class Work:
    """One routed request's database work. `execute()` runs it in its own transaction; a caller holding a
    write transaction (the group-commit writer) calls `run(conn)` in a savepoint instead, then — only after
    its COMMIT — `finish()`, or `failed(exc)` with what `run` or the commit raised."""

    pipeline: Pipeline
    request: HttpRequest
    request_id: str
    route: Route
    signed: SignedRequest | None
    read_only: bool
    principal: Principal | None = None  # set when authenticated before the body was read (uploads)
    staged: StagedBody | None = None  # a streamed upload's body, already in the blob store
    _parsed: Parsed | None = None  # the parameters, when parsed before the transaction (`before_transaction`)
    _prepared: object | None = None  # what the operation's preparer made (`prepare_outside`)
    _early_failure: Exception | None = None  # what authenticating or preparing outside the transaction raised
    _output: dict[str, Any] = field(default_factory=dict)
    _now: float = 0.0
    _after_commit: list[AfterCommit] = field(default_factory=list)
    _committed: bool = False

    @property
    def streams_body(self) -> bool:
        return (self.route.service, self.route.operation) in STREAMING_UPLOADS

    def execute(self) -> HttpResponse:
        """One connection per request: reads in a read-only transaction, anything else in one write
        transaction, committed before the reply is built."""
        db = self.pipeline.db
        try:
            with db.read(keep=True) if self.read_only else db.transaction() as conn:
                self.run(conn)
        except Exception as exc:
            return self.failed(exc)
        return self.finish()

    def run(self, conn: Connection) -> None:
        """Everything that touches the database, in `conn`'s current transaction; raises what the request
        fails with (the caller rolls its transaction or savepoint back)."""
        pipeline = self.pipeline
        if self._early_failure is not None:
            raise self._early_failure
        principal = self.authenticate(conn) if self.principal is None else self.principal
        self._output, self._after_commit = pipeline.run_handler(
            conn,
            self.request,
            self.route,
            self.signed,
            self.request_id,
            principal,
            self.staged,
            self._parsed,
            self._prepared,
        )

    def authenticate(self, conn: Connection) -> Principal:
        """Check who is calling, now, in `conn`; the principal is kept, with the time it was checked."""
        self._now = time.time()
        self.principal = self.pipeline._authenticate(conn, self.request, self.route, self.signed, self._now)
        return self.principal

    def before_transaction(self) -> None:
        """Parse the parameters now, before the request waits for the group writer: parsing needs no
        database, and every moment the writer spends on a request is a moment all writers wait. A parse
        error is kept and raised by `run` after authentication, where it would have been raised anyway."""
        if self._parsed is None:
            self._parsed = Parsed.of(self.route, self.request)

    @property
    def prepares_outside(self) -> bool:
        """Whether the operation has CPU-heavy work that can be done before its transaction."""
        return preparer_for(self.route.service, self.route.operation) is not None

    def prepare_outside(self) -> None:
        """Before the request queues for the group writer, in a thread of its own: authenticate and authorize
        in a short read transaction, then do the operation's CPU-heavy part (signing a certificate, making a
        key) outside any transaction, so the writer, which every write waits for, only stores the result.
        Nothing is prepared for a caller that fails either check. Never raises: a failure is kept for `run`,
        which raises it in the transaction, as if it had happened there."""
        preparer = preparer_for(self.route.service, self.route.operation)
        if preparer is None or self.principal is not None or self._early_failure is not None:
            return
        self.before_transaction()
        assert self._parsed is not None
        pipeline, request, route = self.pipeline, self.request, self.route
        try:
            with pipeline.db.read(keep=True) as conn:  # the prepare threads keep theirs (SQLite)
                principal = self.authenticate(conn)
                params = self._parsed.result()  # a parse error counts only after authentication, as in `run`
                region = pipeline.region_of(self.signed)
                ctx = pipeline.context(conn, principal, route, region, request, self.request_id)
                work = preparer(ctx, params)
                if not ctx.authorized:
                    raise unauthorized_handler(route.service, route.operation)
            prepared = work()
        except Exception as exc:
            self._early_failure = exc
            return
        self._prepared = prepared

    def early_reply(self) -> HttpResponse | None:
        """The error reply when authenticating, authorizing or preparing outside the transaction failed."""
        return None if self._early_failure is None else self.failed(self._early_failure)

    def finish(self) -> HttpResponse:
        """After the commit: the handler's after-commit steps, the key's use, then the reply."""
        self._committed = True
        for step in self._after_commit:
            try:
                step()
            except Exception:  # the request succeeded; a leftover blob is the orphan sweep's to find
                log.warning("an after-commit step of request %s failed", self.request_id, exc_info=True)
        try:
            self.pipeline.after_commit(self.signed, self._now)
            return codec_for(self.route.service).serialize(self.route, self._output, self.request_id)
        except Exception as exc:
            return self.failed(exc)

    def failed(self, exc: BaseException) -> HttpResponse:
        if self.staged is not None and not self._committed:
            self.discard_staged()
        return self.pipeline.failure(exc, self.request, self.route.service, self.request_id)

    def discard_staged(self) -> None:
        """Delete the staged blob of a request that did not commit (no row can refer to it)."""
        staged, blobs = self.staged, self.pipeline.blobs
        self.staged = None
        if staged is None or blobs is None:
            return
        try:
            blobs.delete(staged.blob_id)
        except Exception:
            log.warning("could not delete the staged blob of request %s", self.request_id, exc_info=True)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A request's parameters, or what parsing them raised."""

    params: dict[str, Any] | None
    error: Exception | None

    @classmethod
    def of(cls, route: Route, request: HttpRequest) -> Parsed:
        try:
            return cls(codec_for(route.service).parse(route, request), None)
        except Exception as exc:
            return cls(None, exc)

    def result(self) -> dict[str, Any]:
        """The parameters (a copy: a retried unit of work must not see a first run's changes), or raise."""
        if self.error is not None:
            raise self.error
        assert self.params is not None
        return dict(self.params)


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
