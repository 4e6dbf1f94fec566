"""The policy cache: hits, invalidation through the IAM generation, across handles ("nodes") on one database."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edgeward.services import policy_cache
from edgeward.services.policy_cache import GenerationWatch, PolicyCache, is_iam_mutation, note_operation
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import decisions as repo


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Counts its calls and returns the call number, so a reload shows."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def bump(db: Database) -> int:
    with db.transaction() as conn:
        return repo.bump_generation(conn)


def lookup(db: Database, cache: PolicyCache, key: object, loader: Callable[[], int]) -> int:
    with db.transaction() as conn:
        return cache.get(("user", key), loader, conn)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(fake_clock: FakeClock) -> PolicyCache:
    return PolicyCache(GenerationWatch(poll_interval=0.25, clock=fake_clock))


def test_a_second_lookup_is_a_hit(database: Database, cache: PolicyCache) -> None:
    loader = Loader()
    assert lookup(database, cache, 1, loader) == 1
    assert lookup(database, cache, 1, loader) == 1
    assert (loader.calls, cache.hits, cache.misses) == (1, 1, 1)
    assert lookup(database, cache, 2, Loader()) == 1  # another key, its own loader


def test_a_change_on_another_node_is_seen_at_the_next_poll(
    database: Database, cache: PolicyCache, fake_clock: FakeClock
) -> None:
    other_node = database.for_worker()  # its own engine and pool: another process or machine
    try:
        loader = Loader()
        assert lookup(database, cache, 1, loader) == 1
        bump(other_node)
        fake_clock.now += 0.1
        assert lookup(database, cache, 1, loader) == 1  # still within the poll interval
        fake_clock.now += 0.2
        assert lookup(database, cache, 1, loader) == 2  # polled: generation moved, reloaded
        assert lookup(database, cache, 1, loader) == 2
    finally:
        other_node.dispose()


def test_two_nodes_see_each_others_changes_within_the_poll_interval(database: Database) -> None:
    """Real clock, real interval: any lookup that starts a poll interval after node B's commit polled after
    that commit (the last poll before it scheduled the next one at most an interval later), so it reloads."""
    node_b = database.for_worker()
    cache_a, cache_b = PolicyCache(GenerationWatch()), PolicyCache(GenerationWatch())
    try:
        loader_a, loader_b = Loader(), Loader()
        assert lookup(database, cache_a, 7, loader_a) == 1
        assert lookup(node_b, cache_b, 7, loader_b) == 1
        with node_b.transaction() as conn:
            repo.bump_generation(conn)
        time.sleep(policy_cache.POLL_INTERVAL + 0.01)
        assert lookup(database, cache_a, 7, loader_a) == 2
        assert lookup(node_b, cache_b, 7, loader_b) == 2  # the writer itself, through another watch
    finally:
        node_b.dispose()


def test_this_process_sees_its_own_change_at_once(
    database: Database, cache: PolicyCache, fake_clock: FakeClock
) -> None:
    watch = cache._watch
    loader = Loader()
    assert lookup(database, cache, 1, loader) == 1
    with database.transaction() as conn:
        watch.bump(conn)
        fake_clock.now += 0.01
        assert cache.get(("user", 1), loader, conn) == 2  # our own write: polled at once
    fake_clock.now += 0.01
    assert lookup(database, cache, 1, loader) == 2
    polls = watch.polls
    fake_clock.now += 0.01
    lookup(database, cache, 1, loader)
    assert watch.polls == polls  # seen: back to polling on the interval


def test_a_rolled_back_change_stops_forcing_polls_after_a_while(
    database: Database, cache: PolicyCache, fake_clock: FakeClock
) -> None:
    watch = cache._watch
    loader = Loader()
    lookup(database, cache, 1, loader)
    with pytest.raises(RuntimeError), database.transaction() as conn:
        watch.bump(conn)
        raise RuntimeError("the operation failed after all")
    fake_clock.now += 0.01
    polls = watch.polls
    assert lookup(database, cache, 1, loader) == 1  # nothing changed: no reload
    assert watch.polls == polls + 1
    fake_clock.now += policy_cache.EXPECT_WINDOW
    lookup(database, cache, 1, loader)
    fake_clock.now += 0.01
    lookup(database, cache, 1, loader)
    assert watch.polls == polls + 2
    assert loader.calls == 1


def test_a_value_loaded_while_the_generation_moved_is_not_kept(
    database: Database, cache: PolicyCache, fake_clock: FakeClock
) -> None:
    other_node = database.for_worker()

    def loader_that_sees_a_change() -> int:
        bump(other_node)
        fake_clock.now += 1.0
        with database.read() as conn:
            cache._watch.current(conn)  # another request polls meanwhile
        return 99

    try:
        with database.read() as conn:  # (a read: SQLite lets the other node write meanwhile)
            assert cache.get(("user", 1), loader_that_sees_a_change, conn) == 99
    finally:
        other_node.dispose()
    assert len(cache) == 0
    assert lookup(database, cache, 1, Loader()) == 1


def test_another_database_never_gets_this_ones_entries(database: Database, cache: PolicyCache, tmp_path: Path) -> None:
    other = Database(sqlite_url(tmp_path / "other"))  # its own generation 0 and its own user 1, too
    try:
        (tmp_path / "other").mkdir()
        other.migrate()
        assert lookup(database, cache, 1, Loader()) == 1
        loader = Loader()
        assert lookup(other, cache, 1, loader) == 1
        assert loader.calls == 1
        assert lookup(other, cache, 1, loader) == 1
        assert loader.calls == 1
    finally:
        other.dispose()


def test_the_cache_is_bounded(database: Database, fake_clock: FakeClock) -> None:
    cache = PolicyCache(GenerationWatch(clock=fake_clock), max_entries=3)
    for key in range(5):
        lookup(database, cache, key, Loader())
    assert len(cache) == 3
    loader = Loader()
    lookup(database, cache, 0, loader)  # the oldest were evicted
    assert loader.calls == 1


def test_generation_starts_unpredictably_and_counts_up(database: Database) -> None:
    with database.read() as conn:
        assert repo.current_generation(conn) == 0
    first = bump(database)
    assert first > 1_000_000_000_000_000  # microseconds since 1970: never a value seen before a wipe
    assert bump(database) == first + 1
    with database.read() as conn:
        assert repo.current_generation(conn) == first + 1
    database.wipe()
    with database.read() as conn:
        assert repo.current_generation(conn) == 0


def test_note_operation_bumps_only_for_iam_mutations(database: Database) -> None:
    with database.transaction() as conn:
        note_operation(conn, "iam", "GetUser")
        note_operation(conn, "sts", "AssumeRole")
        note_operation(conn, "iam", "CreateAccessKey")
        assert repo.current_generation(conn) == 0
        note_operation(conn, "iam", "AttachUserPolicy")
        assert repo.current_generation(conn) > 0


@pytest.mark.parametrize(
    ("service", "operation", "mutation"),
    [
        ("iam", "AttachUserPolicy", True),
        ("iam", "PutRolePolicy", True),
        ("iam", "AddUserToGroup", True),
        ("iam", "DeleteUser", True),
        ("iam", "PutUserPermissionsBoundary", True),
        ("iam", "CreatePolicyVersion", True),
        ("iam", "TagUser", True),
        ("iam", "UpdateAssumeRolePolicy", True),
        ("iam", "GetUser", False),
        ("iam", "ListAttachedUserPolicies", False),
        ("iam", "SimulatePrincipalPolicy", False),
        ("iam", "UpdateAccessKey", False),
        ("iam", "CreateLoginProfile", False),
        ("sts", "AssumeRole", False),
        ("s3", "PutBucketPolicy", False),
    ],
)
def test_which_operations_are_iam_mutations(service: str, operation: str, mutation: bool) -> None:
    assert is_iam_mutation(service, operation) is mutation
