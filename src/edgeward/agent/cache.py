"""Credentials cached on disk (0600), so `credential_process` calls in a row do not each cost an exchange."""

from __future__ import annotations

import json
import os
from pathlib import Path

from edgeward.agent.credentials import Credentials, CredentialsFormatError


def load(path: Path) -> Credentials | None:
    try:
        return Credentials.from_provider(json.loads(path.read_text()))
    except (OSError, ValueError, CredentialsFormatError):
        return None


def store(path: Path, credentials: Credentials) -> None:
    """Atomically replaced, never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials.to_provider(), handle)
    os.replace(tmp, path)
