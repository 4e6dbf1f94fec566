"""The credentials provider's note that a DeepLens device authenticated (Awaiting credentials -> Registered).

Called by every successful credentials exchange, so it must cost next to nothing: one indexed UPDATE that
matches only a registered device's first exchange. A process remembers the certificates for which that UPDATE
matched nothing — not a DeepLens certificate, or its first exchange is recorded already — and skips them
afterwards. That memory is never wrong: a certificate becomes a DeepLens device's only in the transaction
that issues it, before any exchange, and a recorded first exchange is never undone. (A matched UPDATE is not
remembered, since its transaction may still roll back.)
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Connection

from edgeward.storage.repos import deeplens as repo

_MAX_REMEMBERED = 100_000
_settled: set[str] = set()
_lock = threading.Lock()


def note_exchange(conn: Connection, certificate_id: str, now: datetime) -> None:
    if certificate_id in _settled:
        return
    if repo.note_first_authentication(conn, certificate_id, now):
        return
    with _lock:
        if len(_settled) >= _MAX_REMEMBERED:
            _settled.clear()
        _settled.add(certificate_id)
