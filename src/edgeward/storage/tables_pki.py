"""edgeward's certificate authorities (root and issuing CA, keys sealed)."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
