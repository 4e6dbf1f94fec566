"""The agent's refresh policy: serve fresh credentials, refresh ahead of expiry, ride out an unreachable provider."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgeward.agent import cache
from edgeward.agent.credentials import Credentials
from edgeward.agent.fetch import ProviderUnavailable
from edgeward.agent.refresh import JITTER_S, REFRESH_BEFORE_S, CredentialSource


def creds(seconds: float, key: str = "ASIAEXAMPLE") -> Credentials:
    return Credentials(key, "secret", "token", datetime.now(UTC) + timedelta(seconds=seconds))


class Provider:
    """Stands in for the network: hands out the next credentials, or fails like an unreachable server."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = False
        self.lifetime = 3600.0

    def fetch(self) -> Credentials:
        self.calls += 1
        if self.down:
            raise ProviderUnavailable("connection refused")
        return creds(self.lifetime, f"ASIA{self.calls:016d}")


def test_fresh_credentials_are_reused(tmp_path: Path) -> None:
    provider = Provider()
    source = CredentialSource(provider.fetch, tmp_path / "cache.json", rng=random.Random(1))
    first = source.current()
    assert source.current() is first
    assert provider.calls == 1


def test_cache_survives_a_new_process(tmp_path: Path) -> None:
    provider = Provider()
    CredentialSource(provider.fetch, tmp_path / "cache.json").current()
    assert (tmp_path / "cache.json").stat().st_mode & 0o777 == 0o600
    again = CredentialSource(provider.fetch, tmp_path / "cache.json").current()
    assert provider.calls == 1
    assert again.access_key_id == "ASIA0000000000000001"


def test_credentials_near_expiry_are_refreshed(tmp_path: Path) -> None:
    provider = Provider()
    cache.store(tmp_path / "cache.json", creds(REFRESH_BEFORE_S - 1))
    fresh = CredentialSource(provider.fetch, tmp_path / "cache.json").current()
    assert provider.calls == 1
    assert fresh.seconds_left() > 3000


def test_provider_down_serves_current_until_expiry(tmp_path: Path) -> None:
    provider = Provider()
    provider.down = True
    cache.store(tmp_path / "cache.json", creds(60))
    source = CredentialSource(provider.fetch, tmp_path / "cache.json")
    assert source.current().access_key_id == "ASIAEXAMPLE"
    cache.store(tmp_path / "expired.json", creds(-1))
    with pytest.raises(ProviderUnavailable):
        CredentialSource(provider.fetch, tmp_path / "expired.json").current()


def test_refresh_times_are_jittered(tmp_path: Path) -> None:
    dues = set()
    for seed in range(5):
        source = CredentialSource(Provider().fetch, None, rng=random.Random(seed))
        source.current()
        dues.add(round(source.seconds_until_due()))
    assert len(dues) > 1
    assert all(3600 - 720 - JITTER_S - 5 <= due <= 3600 - 720 for due in dues)
