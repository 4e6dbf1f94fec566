"""Several `edgeward serve` nodes sharing one PostgreSQL database, as an operator runs them behind a load balancer.

Every node gets its own data directory (its `ca.pem`, its log) and its own credentials-provider port, the same
EDGEWARD_KEK and the same database URL — so blobs live in PostgreSQL too. The first node creates the account;
the others start once it is up and are given a copy of its credentials file, so each node's `client()` and
`env()` act as the same administrator.
"""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import (
    PG_ENV,
    RunningServer,
    drop_postgres,
    free_port,
    fresh_postgres_url,
    start_server,
)

MULTINODE_SKIP = (
    "multi-node tests skipped: several nodes need a shared PostgreSQL; set EDGEWARD_TEST_DATABASE_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)


@dataclass
class Node:
    server: RunningServer
    mtls_port: int

    @property
    def ca_file(self) -> Path:
        return self.server.data_dir / "ca.pem"

    def client(
        self, service: str, access_key: str | None = None, secret_key: str | None = None, token: str | None = None
    ) -> Any:
        return self.server.client(service, access_key, secret_key, token)


@dataclass
class Cluster:
    nodes: list[Node]
    database_url: str
    _turn: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Node:
        """The next node, round-robin: consecutive requests of a test land on different nodes."""
        with self._lock:
            return self.nodes[next(self._turn) % len(self.nodes)]

    def client(
        self, service: str, access_key: str | None = None, secret_key: str | None = None, token: str | None = None
    ) -> Any:
        """An administrator's (or the given keys') client for the next node."""
        return self.next().client(service, access_key, secret_key, token)


def start_cluster(tmp_path_factory: pytest.TempPathFactory, count: int) -> Iterator[Cluster]:
    base_url = os.environ.get(PG_ENV)
    if not base_url:
        pytest.skip(MULTINODE_SKIP)
    database_url, db_name = fresh_postgres_url(base_url)
    env = {"EDGEWARD_KEK": base64.b64encode(secrets.token_bytes(32)).decode()}
    nodes: list[Node] = []

    def launch(index: int) -> Node:
        data_dir = tmp_path_factory.mktemp(f"node{index}") / "data"
        if nodes:  # the account exists: this node serves it with the first node's administrator
            data_dir.mkdir(mode=0o700)
            shutil.copy(nodes[0].server.credentials_file, data_dir / "credentials")
        mtls_port = free_port()
        server = start_server(data_dir, "postgres", database_url, extra_args=["--mtls-port", str(mtls_port)], env=env)
        return Node(server, mtls_port)

    try:
        nodes.append(launch(0))
        with ThreadPoolExecutor(count - 1 or 1) as pool:
            started = [pool.submit(launch, index) for index in range(1, count)]
        nodes.extend(future.result() for future in started if future.exception() is None)
        for future in started:
            future.result()  # the first node that failed to start, with its log
        yield Cluster(nodes, database_url)
    finally:
        for node in nodes:
            node.server.stop()
        drop_postgres(base_url, db_name)


def within(limit: float, check: Callable[[], object], since: float | None = None) -> float:
    """Seconds from `since` (default: now) until `check()` returns something true; fails past `limit`.

    `check` raising AssertionError or ClientError counts as "not yet". The last such error is reported.
    """
    start = time.monotonic() if since is None else since
    last: BaseException | None = None
    while True:
        try:
            if check():
                return time.monotonic() - start
        except (AssertionError, ClientError) as exc:
            last = exc
        elapsed = time.monotonic() - start
        if elapsed > limit:
            raise AssertionError(f"not true within {limit} s (waited {elapsed:.2f} s); last: {last!r}")
        time.sleep(0.02)
