"""sagemaker-edge: edge operations."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}
