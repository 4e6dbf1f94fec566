"""S3: buckets operations."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}
