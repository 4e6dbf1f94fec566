"""What an operation handler receives: who is calling, where, a transaction, and the authorizer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core.principal import Principal
from edgeward.storage.blobs import BlobStore
from edgeward.storage.secrets import SecretBox

# (ctx, action, resource, condition context) -> None, or raises ServiceError(AccessDenied...)
Authorizer = Callable[["Context", str, str, Mapping[str, Any]], None]


@dataclass(slots=True)
class Context:
    principal: Principal
    region: str
    request_id: str
    service: str
    operation: str
    conn: Connection
    secrets: SecretBox
    authorizer: Authorizer
    source_ip: str = ""
    secure: bool = False
    authorized: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    # What this installation tells clients to connect to (IoT DescribeEndpoint), by endpoint type.
    endpoints: Mapping[str, str] = field(default_factory=dict)
    # Where object bytes live (S3); None only in contexts that never touch objects.
    blobs: BlobStore | None = None

    @property
    def account(self) -> str:
        return self.principal.account

    def authorize(self, action: str, resource: str = "*", condition: Mapping[str, Any] | None = None) -> None:
        """Check `action` on `resource`; raises AccessDenied in the service's wording. Call before any effect."""
        self.authorizer(self, action, resource, condition or {})
        self.authorized = True

    def needs_no_permission(self) -> None:
        """For the few operations AWS leaves open to any authenticated caller (sts:GetCallerIdentity)."""
        self.authorized = True

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return arns.build(service, self.region if regional else "", self.account, resource)


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]

# An operation's CPU-heavy part that writes nothing (issuing a certificate): given a read-only Context, it
# authorizes and reads what it needs, and returns the work itself, which runs outside any transaction. The
# pipeline runs it before the request queues for the writer and hands the result to the handler in
# `params[PREPARED]`; a handler called without it (PostgreSQL, the mTLS listener, tests) prepares inline.
Prepared = Callable[[], object]
Preparer = Callable[[Context, dict[str, Any]], Prepared]
PREPARED = "__edgeward_prepared__"
