"""IoT policies, their versions and targets; role aliases."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
