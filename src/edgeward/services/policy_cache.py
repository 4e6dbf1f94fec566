"""Per-process caches of compiled policies, invalidated through the database on every node.

Every IAM write increments one number in the database, the IAM generation (`iam_generation`), inside its
own transaction: the dispatcher calls `note_operation(conn, service, operation)` after a handler succeeded.
Each process keeps a `GenerationWatch` that re-reads the number (one primary-key lookup on the request's
own connection) when `poll_interval` (250 ms) has passed since its last look; cache entries are tagged with
the generation seen before they were loaded (and which database it was) and are used only while it is still
current.

How stale can an answer be?
- On another worker or node: a lookup that starts more than `poll_interval` after the change committed
  has polled after the commit, so it sees the new generation: at most 250 ms (plus one query) of the old
  policies — well within the "every node within a second" promise.
- In the process that made the change: none. `note_operation` remembers the generation it wrote, and until
  a poll has seen it (or for one second, if that transaction rolled back) every lookup polls first.

A loader runs on the request's connection, so what it reads is committed state (authorization happens
before any effect); a value it returns is tagged with the generation observed before it ran, so a change
committed while it ran is never hidden by the entry.

    policies = IDENTITY_POLICIES.get(("user", principal.entity_id), lambda: load(ctx.conn), ctx.conn)
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Connection

from edgeward.storage.repos import decisions as repo

T = TypeVar("T")

POLL_INTERVAL = 0.25
EXPECT_WINDOW = 1.0  # how long to keep polling for our own bump (a rolled-back one never shows)

# IAM operations that never change what a policy evaluation sees: credentials, not permissions.
_CREDENTIAL_OPERATIONS = frozenset(
    {
        "CreateAccessKey",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
        "ChangePassword",
        "UploadSigningCertificate",
        "UpdateSigningCertificate",
        "DeleteSigningCertificate",
        "UploadSSHPublicKey",
        "UpdateSSHPublicKey",
        "DeleteSSHPublicKey",
        "CreateServiceSpecificCredential",
        "ResetServiceSpecificCredential",
        "UpdateServiceSpecificCredential",
        "DeleteServiceSpecificCredential",
    }
)
_READ_PREFIXES = ("Get", "List", "Simulate", "Generate")


# What cache entries are tagged with: (which database, its IAM generation). A new object only when either
# changes, so an entry is current when its stamp *is* the watch's.
Stamp = tuple[int, int]


class GenerationWatch:
    """This process's view of the IAM generation, refreshed at most every `poll_interval` seconds.

    It also notices a connection from another engine (another database: tests; a fresh engine after a fork)
    and then starts over, so entries loaded from one database are never served for another.
    """

    def __init__(self, poll_interval: float = POLL_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = poll_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._engine: object = None
        self._epoch = 0
        self._stamp: Stamp = (0, -1)  # nothing seen yet: the first lookup polls
        self._next_poll = 0.0
        self._expected = 0  # a generation this process wrote and has not seen committed yet (0: none)
        self._expected_until = 0.0
        self.polls = 0

    def current(self, conn: Connection) -> Stamp:
        """The stamp to tag and check cache entries with; polls the database when due."""
        now = self._clock()
        if now >= self._next_poll or self._expected or conn.engine is not self._engine:
            self._poll(conn, now)
        return self._stamp

    @property
    def stamp(self) -> Stamp:
        """The stamp of the last poll, without polling."""
        return self._stamp

    def bump(self, conn: Connection) -> int:
        """Count one IAM change in `conn`'s transaction; returns the new generation."""
        generation = repo.bump_generation(conn)
        with self._lock:
            self._expected = max(self._expected, generation)
            self._expected_until = self._clock() + EXPECT_WINDOW
        return generation

    def expire(self) -> None:
        """Make the next lookup poll (tests, dev-mode reset)."""
        self._next_poll = 0.0

    def after_fork(self) -> None:
        self._lock = threading.Lock()  # a thread of the parent may have held it at the fork
        self._next_poll = 0.0

    def _poll(self, conn: Connection, now: float) -> None:
        engine = conn.engine
        # Another thread polling right now gives an answer as fresh as ours would be: skip, except while our
        # own write is pending (that answer may predate its commit) or when the database is another one.
        if not self._lock.acquire(blocking=bool(self._expected) or engine is not self._engine):
            return
        try:
            generation = repo.current_generation(conn)
            self.polls += 1
            if engine is not self._engine:
                self._engine, self._epoch = engine, self._epoch + 1
            if (self._epoch, generation) != self._stamp:
                self._stamp = (self._epoch, generation)
            self._next_poll = now + self._interval
            if self._expected and (generation >= self._expected or now >= self._expected_until):
                self._expected = 0
        finally:
            self._lock.release()


class PolicyCache:
    """Values (compiled policy lists: opaque here) by key, valid while the IAM generation is unchanged."""

    def __init__(self, watch: GenerationWatch | None = None, max_entries: int = 10_000) -> None:
        self._watch = watch or WATCH
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[Stamp, Any]] = {}
        self._stamp: Stamp | None = None
        self.hits = 0
        self.misses = 0
        _CACHES.add(self)

    def get(self, key: Hashable, loader: Callable[[], T], conn: Connection) -> T:
        """The cached value for `key`, or `loader()`'s (then cached) when absent or from an older generation."""
        stamp = self._watch.current(conn)
        if stamp is not self._stamp:
            self._reset(stamp)
        found = self._entries.get(key)
        if found is not None and found[0] is stamp:
            self.hits += 1
            value: T = found[1]
            return value
        self.misses += 1
        value = loader()
        self._store(key, stamp, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries = {}

    def __len__(self) -> int:
        return len(self._entries)

    def after_fork(self) -> None:
        self._lock = threading.Lock()  # a thread of the parent may have held it at the fork
        self._entries = {}

    def _reset(self, stamp: Stamp) -> None:
        with self._lock:
            if stamp is not self._stamp:
                self._entries = {}
                self._stamp = stamp

    def _store(self, key: Hashable, stamp: Stamp, value: Any) -> None:
        with self._lock:
            if stamp is not self._stamp or stamp is not self._watch.stamp:
                return  # the generation moved while the loader ran: do not keep what it read
            entries = self._entries
            if len(entries) >= self._max and key not in entries:
                del entries[next(iter(entries))]  # the oldest entry
            entries[key] = (stamp, value)


WATCH = GenerationWatch()
_CACHES: weakref.WeakSet[PolicyCache] = weakref.WeakSet()

# The identity-based policies of principals, keyed e.g. ("user", entity id) or ("role", entity id).
IDENTITY_POLICIES = PolicyCache()


def bump_generation(conn: Connection) -> int:
    """Count one IAM change in the caller's transaction (every node's caches drop their entries)."""
    return WATCH.bump(conn)


def is_iam_mutation(service: str, operation: str) -> bool:
    """True for IAM operations that may change what an authorization decides."""
    return service == "iam" and not operation.startswith(_READ_PREFIXES) and operation not in _CREDENTIAL_OPERATIONS


def note_operation(conn: Connection, service: str, operation: str) -> None:
    """For the dispatcher: call in the operation's transaction, after its handler returned successfully."""
    if is_iam_mutation(service, operation):
        WATCH.bump(conn)


def _after_fork() -> None:
    WATCH.after_fork()
    for cache in list(_CACHES):
        cache.after_fork()


os.register_at_fork(after_in_child=_after_fork)
