"""DeepLens-style device registrations."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
