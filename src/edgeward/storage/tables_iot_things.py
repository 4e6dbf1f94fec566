"""IoT things, thing types, thing groups, principals attached to things, endpoints."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
