"""What the console needs from the running server (wired by `server.assembly`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from edgeward.storage.blobs import BlobStore
from edgeward.storage.database import Database
from edgeward.storage.secrets import SecretBox

SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class ConsoleDeps:
    db: Database
    box: SecretBox
    account: str
    region: str
    endpoints: Mapping[str, str] = field(default_factory=dict)
    blobs: BlobStore | None = None
    session_lifetime: timedelta = SESSION_LIFETIME
