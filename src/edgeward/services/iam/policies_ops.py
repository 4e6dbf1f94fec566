"""IAM managed and inline policies, attachments, boundaries, simulation: the operation table."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}
