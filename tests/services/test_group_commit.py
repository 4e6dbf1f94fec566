"""Group commit on SQLite under concurrency (two worker processes): answers as without it, limits hold, and
every acknowledged write survives a SIGKILL of the whole server."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer, start_server

THREADS = 32
USERS = 40
DUPLICATES = 5
KEY_ATTEMPTS = 3  # per user: the third must fail, two keys at most

Outcome = tuple[str, Any]  # ("ok", the response) or ("error", its error code)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "data", extra_args=["--workers", "2"])
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


def call(action: Callable[..., Any], **params: Any) -> Outcome:
    try:
        return "ok", action(**params)
    except ClientError as exc:
        return "error", exc.response["Error"]["Code"]


def in_parallel(calls: list[Callable[[], Outcome]]) -> list[Outcome]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda run: run(), calls))


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Linux /proc)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            found += process_tree(int(child))
    return found


def kill_hard(server: RunningServer) -> None:
    """SIGKILL the server and its worker processes at once: no shutdown, no final flush."""
    for pid in process_tree(server.process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    time.sleep(0.2)  # the workers are reparented; let the kernel reap them and free the port


def create_users(iam: Any) -> list[str]:
    names = [f"user{i:03d}" for i in range(USERS)]
    attempts = names + names[:DUPLICATES]
    outcomes = in_parallel([lambda name=name: call(iam.create_user, UserName=name) for name in attempts])
    tally: dict[str, Counter[str]] = {name: Counter() for name in names}
    for name, (kind, value) in zip(attempts, outcomes, strict=True):
        tally[name][value if kind == "error" else "ok"] += 1
    for name in names[:DUPLICATES]:
        assert tally[name] == Counter({"ok": 1, "EntityAlreadyExists": 1}), name
    for name in names[DUPLICATES:]:
        assert tally[name] == Counter({"ok": 1}), name
    return names


def create_keys(iam: Any, names: list[str]) -> dict[str, set[str]]:
    attempts = [name for name in names for _ in range(KEY_ATTEMPTS)]
    outcomes = in_parallel([lambda name=name: call(iam.create_access_key, UserName=name) for name in attempts])
    keys: dict[str, set[str]] = {name: set() for name in names}
    refused: Counter[str] = Counter()
    for name, (kind, value) in zip(attempts, outcomes, strict=True):
        if kind == "ok":
            keys[name].add(value["AccessKey"]["AccessKeyId"])
        else:
            assert value == "LimitExceeded", (name, value)
            refused[name] += 1
    assert all(len(ids) == 2 for ids in keys.values())
    assert refused == Counter({name: 1 for name in names})
    return keys


def deactivate(iam: Any, keys: dict[str, set[str]]) -> None:
    pairs = [(name, key) for name, ids in keys.items() for key in sorted(ids)]
    outcomes = in_parallel(
        [
            lambda name=name, key=key: call(iam.update_access_key, UserName=name, AccessKeyId=key, Status="Inactive")
            for name, key in pairs
        ]
    )
    assert [kind for kind, _ in outcomes] == ["ok"] * len(pairs)


def stored_keys(iam: Any, names: list[str]) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for name in names:
        metadata = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        found[name] = {(key["AccessKeyId"], key["Status"]) for key in metadata}
    return found


def test_concurrent_writes_are_answered_right_and_survive_a_sigkill(server: RunningServer) -> None:
    iam = server.client("iam", max_pool_connections=THREADS)
    names = create_users(iam)
    keys = create_keys(iam, names)
    deactivate(iam, keys)

    kill_hard(server)
    restarted = start_server(server.data_dir, extra_args=["--workers", "2"])
    try:
        iam = restarted.client("iam")
        listed = {user["UserName"] for user in iam.get_paginator("list_users").paginate().build_full_result()["Users"]}
        assert set(names) <= listed
        expected = {name: {(key, "Inactive") for key in ids} for name, ids in keys.items()}
        assert stored_keys(iam, names) == expected
    finally:
        restarted.stop()
