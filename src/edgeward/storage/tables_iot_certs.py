"""IoT device certificates and registered CA certificates."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
