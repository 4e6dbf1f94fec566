"""Fixtures of the multi-node tests: one fresh PostgreSQL database and three nodes per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.multinode.cluster import Cluster, start_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from start_cluster(tmp_path_factory, 3)
