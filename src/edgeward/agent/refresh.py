"""Keeping credentials fresh: refresh ahead of expiry with jitter, ride out a provider that is down.

Refresh begins when less than `REFRESH_BEFORE_S` (or a fifth of the credentials' lifetime, if longer) is left,
moved earlier by up to `JITTER_S` at random, so a fleet of devices started together does not refresh together.
While the provider cannot be reached, the current credentials are served until they expire, and attempts back
off exponentially (with jitter) up to `MAX_BACKOFF_S`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from edgeward.agent import cache
from edgeward.agent.credentials import Credentials
from edgeward.agent.fetch import ProviderUnavailable

REFRESH_BEFORE_S = 300.0
JITTER_S = 60.0
MIN_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0

log = logging.getLogger("edgeward.agent")

Fetch = Callable[[], Credentials]


def refresh_margin(credentials: Credentials, issued_at: datetime | None = None) -> float:
    """Seconds before expiry at which to refresh."""
    lifetime = credentials.seconds_left(issued_at) if issued_at else 3600.0
    return max(REFRESH_BEFORE_S, lifetime / 5)


class CredentialSource:
    """The freshest usable credentials: from memory, the disk cache, or the provider."""

    def __init__(self, fetch: Fetch, cache_path: Path | None, *, rng: random.Random | None = None) -> None:
        self._fetch = fetch
        self._cache_path = cache_path
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._current: Credentials | None = cache.load(cache_path) if cache_path else None
        self._issued_at: datetime | None = None
        self._jitter = self._rng.uniform(0, JITTER_S)

    def current(self) -> Credentials:
        """Credentials good for a while yet; fetches when due. Raises ProviderUnavailable/ProviderError only
        when nothing usable is left."""
        with self._lock:
            if self._current is not None and not self._due(self._current):
                return self._current
            try:
                return self._refresh_locked()
            except ProviderUnavailable:
                if self._current is not None and self._current.seconds_left() > 0:
                    log.warning(
                        "credentials provider unreachable; serving credentials valid until %s",
                        self._current.expiration_text(),
                    )
                    return self._current
                raise

    def refresh(self) -> Credentials:
        with self._lock:
            return self._refresh_locked()

    def seconds_until_due(self) -> float:
        with self._lock:
            if self._current is None:
                return 0.0
            return max(0.0, self._current.seconds_left() - self._margin(self._current))

    def _refresh_locked(self) -> Credentials:
        fresh = self._fetch()
        self._current = fresh
        self._issued_at = datetime.now(UTC)
        self._jitter = self._rng.uniform(0, JITTER_S)
        if self._cache_path is not None:
            cache.store(self._cache_path, fresh)
        return fresh

    def _margin(self, credentials: Credentials) -> float:
        return refresh_margin(credentials, self._issued_at) + self._jitter

    def _due(self, credentials: Credentials) -> bool:
        return credentials.seconds_left() <= self._margin(credentials)


class Refresher:
    """A daemon thread that refreshes a CredentialSource ahead of expiry and backs off while it cannot."""

    def __init__(self, source: CredentialSource, *, rng: random.Random | None = None) -> None:
        self._source = source
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgeward-agent-refresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff = MIN_BACKOFF_S
        while not self._stop.is_set():
            wait = self._source.seconds_until_due()
            if wait > 0 and self._stop.wait(wait):
                return
            try:
                self._source.refresh()
                backoff = MIN_BACKOFF_S
            except Exception as exc:
                delay = backoff * self._rng.uniform(0.5, 1.5)
                log.warning("credentials refresh failed (%s); retrying in %.1f s", exc, delay)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                if self._stop.wait(delay):
                    return
