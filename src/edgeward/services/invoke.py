"""Running an operation for a caller that is not on the wire (the web console, the CLI): the same handler,
the same authorization, the same fail-closed rule and cache invalidation as the request pipeline."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from edgeward.core.errors import ServiceError, not_implemented
from edgeward.core.principal import Principal
from edgeward.services.authorization import authorize
from edgeward.services.context import Context
from edgeward.services.errors import unauthorized_handler
from edgeward.services.policy_cache import note_operation
from edgeward.services.registry import OPEN_OPERATIONS, handler_for
from edgeward.storage.blobs import BlobStore
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.invoke")


def invoke(
    conn: Connection,
    principal: Principal,
    service: str,
    operation: str,
    params: dict[str, Any],
    *,
    region: str,
    secrets: SecretBox,
    request_id: str,
    endpoints: Mapping[str, str] | None = None,
    blobs: BlobStore | None = None,
    source_ip: str = "",
    secure: bool = False,
) -> dict[str, Any]:
    """The operation's output; raises its ServiceError (AccessDenied in AWS's words included)."""
    handler = handler_for(service, operation)
    if handler is None:
        raise not_implemented(service, operation)
    ctx = Context(
        principal=principal,
        region=region,
        request_id=request_id,
        service=service,
        operation=operation,
        conn=conn,
        secrets=secrets,
        authorizer=authorize,
        source_ip=source_ip,
        secure=secure,
        endpoints=endpoints or {},
        blobs=blobs,
    )
    output = handler(ctx, params)
    if not ctx.authorized and (service, operation) not in OPEN_OPERATIONS:
        log.error("handler %s:%s made no authorization check", service, operation)
        raise unauthorized_handler(service, operation)
    note_operation(conn, service, operation)
    return output


__all__ = ["ServiceError", "invoke"]
