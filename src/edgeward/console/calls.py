"""Console actions as service operations: validated against the AWS model like a wire request, run in their
own transaction (read-only for reads), authorized as the signed-in principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeward.console.deps import ConsoleDeps
from edgeward.core import ids
from edgeward.core.principal import Principal
from edgeward.protocol import faults, validate
from edgeward.protocol.catalog import SERVICES, operation_model
from edgeward.services.invoke import invoke
from edgeward.services.registry import is_read_only


@dataclass(frozen=True)
class Caller:
    deps: ConsoleDeps
    principal: Principal
    source_ip: str = ""
    secure: bool = False

    def call(self, service: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The operation's output; raises its ServiceError (validation errors in the service's own words)."""
        params = {key: value for key, value in (params or {}).items() if value not in (None, "")}
        if service in SERVICES:  # edgeward's own services (deeplens) have no AWS model: their handlers check input
            found = validate.problems(operation_model(service, operation).input_shape, params)
            if found:
                raise faults.validation(service, found)
        db = self.deps.db
        with db.read() if is_read_only(service, operation) else db.transaction() as conn:
            return invoke(
                conn,
                self.principal,
                service,
                operation,
                params,
                region=self.deps.region,
                secrets=self.deps.box,
                request_id=ids.request_id(),
                endpoints=self.deps.endpoints,
                blobs=self.deps.blobs,
                source_ip=self.source_ip,
                secure=self.secure,
            )
