"""The authorization decision log: `record()` on the request path, one background flusher per process.

`record()` appends a tuple to an in-process bounded queue and returns: no I/O, no formatting, no lock but the
one that wakes the flusher when a batch is full (under a microsecond). When the queue is full the oldest entry
is dropped and counted; a write that fails is retried twice on the next ticks, then its rows are counted lost.
A daemon thread (`DecisionFlusher`, started by the server in each worker process) wakes every
`flush_interval` seconds, or as soon as `batch_rows` entries wait, turns the entries into rows (deciding
policy, statement, reason) and inserts them in one transaction per batch; now and then (every minute) it
prunes the table to the retention bounds.
`stop()` drains the queue before returning, so a clean shutdown loses nothing that was recorded.

Settings (environment of `edgeward serve`, read by the server through `LogSettings.from_env`):

| variable | default | meaning |
|---|---|---|
| `EDGEWARD_DECISIONS_RETENTION_DAYS` | 7 | rows older than this are deleted (fractions allowed) |
| `EDGEWARD_DECISIONS_RETENTION_ROWS` | 1000000 | at most this many rows are kept (the newest) |
| `EDGEWARD_DECISIONS_QUEUE` | 10000 | entries held in memory per process before the oldest are dropped |
| `EDGEWARD_DECISIONS_FLUSH_SECONDS` | 0.2 | longest wait between two writes (1000 waiting entries write at once) |
| `EDGEWARD_DECISIONS` | on | `off`: record nothing (the flusher does not start) |
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from edgeward.core import clock
from edgeward.policy import Decision, Effect, MatchedStatement, denial_message
from edgeward.services import metrics
from edgeward.services.context import Context
from edgeward.storage.database import Database
from edgeward.storage.repos import decisions as repo

log = logging.getLogger("edgeward.decisions")

# (epoch seconds, account, request id, principal ARN, action, resource, decision, message)
Entry = tuple[float, str, str, str, str, str, Decision, str]


@dataclass(frozen=True, slots=True)
class LogSettings:
    enabled: bool = True
    queue_size: int = 10_000
    batch_rows: int = 1_000  # wake the flusher at this many entries; also the most rows per transaction
    flush_interval: float = 0.2
    retention: timedelta = timedelta(days=7)
    retention_rows: int = 1_000_000
    prune_interval: float = 60.0
    prune_chunk: int = 5_000  # rows deleted per transaction

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LogSettings:
        """Read the `EDGEWARD_DECISIONS*` variables; a malformed value is an error at start-up."""
        days = float(environ.get("EDGEWARD_DECISIONS_RETENTION_DAYS", "7"))
        rows = int(environ.get("EDGEWARD_DECISIONS_RETENTION_ROWS", "1000000"))
        queue = int(environ.get("EDGEWARD_DECISIONS_QUEUE", "10000"))
        interval = float(environ.get("EDGEWARD_DECISIONS_FLUSH_SECONDS", "0.2"))
        if days <= 0 or rows < 1 or queue < 1 or interval <= 0:
            raise ValueError("EDGEWARD_DECISIONS_* must be positive")
        enabled = environ.get("EDGEWARD_DECISIONS", "on").lower() not in ("off", "0", "false", "no")
        return cls(
            enabled=enabled,
            queue_size=queue,
            flush_interval=interval,
            retention=timedelta(days=days),
            retention_rows=rows,
        )


class DecisionQueue:
    """A bounded FIFO that never blocks: appending to a full queue drops the oldest entry (counted).

    `deque.append`/`popleft` are atomic, so request threads and the flusher share it without a lock;
    `dropped` may miss a count when two threads overflow at the same instant (it is a gauge, not a ledger).
    """

    def __init__(self, capacity: int = 10_000, wake_at: int = 1_000) -> None:
        self._items: deque[Entry] = deque(maxlen=capacity)
        self._capacity = capacity
        self._wake_at = wake_at
        self.dropped = 0
        self.wakeup = threading.Event()

    def put(self, entry: Entry) -> None:
        items = self._items
        if len(items) >= self._capacity:
            self.dropped += 1
        items.append(entry)
        if len(items) >= self._wake_at and not self.wakeup.is_set():
            self.wakeup.set()

    def take(self, limit: int) -> list[Entry]:
        """Up to `limit` of the oldest entries, removed from the queue."""
        items = self._items
        taken: list[Entry] = []
        try:
            while len(taken) < limit:
                taken.append(items.popleft())
        except IndexError:
            pass
        return taken

    def resize(self, capacity: int, wake_at: int) -> None:
        """Change the bounds (at start-up); entries already queued are kept, the newest first."""
        self._items = deque(self._items, maxlen=capacity)
        self._capacity, self._wake_at = capacity, wake_at

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_queue = DecisionQueue()
_enabled = True
# A forked child must not write its parent's entries a second time.
os.register_at_fork(after_in_child=_queue.clear)


def record(ctx: Context, action: str, resource: str, decision: Decision, message: str) -> None:
    """Note one authorization decision (allowed or denied) without slowing the request down."""
    metrics.authorization_decision(decision.allowed)
    if not _enabled:
        return
    try:
        principal = ctx.principal
        _queue.put((time.time(), principal.account, ctx.request_id, principal.arn, action, resource, decision, message))
    except Exception:  # bookkeeping must never fail or slow the request it describes
        _queue.dropped += 1


def pending() -> int:
    """Entries recorded in this process and not yet written."""
    return len(_queue)


# -- turning an entry into a row --------------------------------------------------------------------


def deciding_statement(decision: Decision) -> MatchedStatement | None:
    """The statement that decided: the granting Allow, or the denying Deny. None for implicit denials
    (nothing matched: that is the point) and for the root user."""
    if decision.decided_by is None or not (decision.allowed or decision.explicit_deny):
        return None
    effect = Effect.ALLOW if decision.allowed else Effect.DENY
    fallback: MatchedStatement | None = None
    for matched in decision.matched:
        if matched.effect is effect:
            if matched.policy_type is decision.decided_by:
                return matched
            fallback = fallback or matched
    return fallback


def statement_label(matched: MatchedStatement) -> str:
    """The Sid, or `#<index>` (from 0, in the policy's Statement list) when the statement has none."""
    return matched.sid or f"#{matched.index}"


def to_row(entry: Entry) -> dict[str, Any]:
    at, account, request_id, principal_arn, action, resource, decision, message = entry
    matched = deciding_statement(decision)
    ptype = decision.decided_by
    policy_id = (matched.source_id or None) if matched is not None else None
    statement = statement_label(matched) if matched is not None else None
    if decision.allowed:
        if message:
            reason = message
        elif ptype is None:
            reason = "allowed: the account root"
        else:
            by = policy_id or f"a {ptype.value}"
            reason = f"allowed by {by}" + (f" statement {statement}" if statement else "")
    else:
        reason = message or denial_message(principal_arn, action, resource, decision)
    return {
        "at": clock.from_epoch(at),
        "account_id": account,
        "request_id": request_id,
        "principal_arn": principal_arn,
        "action": action,
        "resource": resource or "*",
        "allowed": decision.allowed,
        "policy_type": ptype.name.lower() if ptype is not None else None,
        "policy_id": policy_id,
        "statement": statement,
        "reason": reason,
    }


# -- the flusher ------------------------------------------------------------------------------------


class DecisionFlusher:
    """Writes a queue to the database from a daemon thread; one per process."""

    MAX_ATTEMPTS = 3
    MAX_PRUNE_CHUNKS = 1_000  # per prune: whatever is left waits for the next one

    def __init__(self, db: Database, queue: DecisionQueue, settings: LogSettings) -> None:
        self._db = db
        self._queue = queue
        self._settings = settings
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgeward-decisions", daemon=True)
        self._retry: list[dict[str, Any]] = []
        self._attempts = 0
        self._reported_drops = 0
        self.written = 0
        self.lost = 0  # rows given up after MAX_ATTEMPTS failed writes
        self.pruned = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write everything queued so far, then end the thread."""
        self._stopping.set()
        self._queue.wakeup.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("decision log: %d entries still unwritten at shutdown", len(self._queue))
        else:
            self.flush()

    def flush(self) -> int:
        """Write what is queued now, batch by batch; returns the rows written. Stops at the first failure.

        Entries recorded meanwhile wait for the next call, so a busy server cannot keep one call going.
        """
        total, batch = 0, self._settings.batch_rows
        for _ in range(len(self._queue) // batch + 2):
            rows = self._retry or [to_row(e) for e in self._queue.take(batch)]
            if not rows or not self._write(rows):
                break
            total += len(rows)
        return total

    def prune(self) -> int:
        """Delete rows past retention in short transactions, writing queued decisions in between."""
        settings, total = self._settings, 0
        older_than = clock.now() - settings.retention
        for _ in range(self.MAX_PRUNE_CHUNKS):
            try:
                with self._db.transaction() as conn:
                    count = repo.prune_decisions(
                        conn, older_than=older_than, keep_rows=settings.retention_rows, limit=settings.prune_chunk
                    )
            except Exception:
                log.warning("decision log: pruning failed; will try again", exc_info=True)
                break
            total += count
            if count < settings.prune_chunk:
                break
            self.flush()
        self.pruned += total
        return total

    def _write(self, rows: list[dict[str, Any]]) -> bool:
        try:
            with self._db.transaction() as conn:
                repo.insert_decisions(conn, rows)
        except Exception:
            self._attempts += 1
            if self._attempts >= self.MAX_ATTEMPTS:
                log.error("decision log: %d decisions lost after %d failed writes", len(rows), self._attempts)
                self.lost += len(rows)
                self._retry, self._attempts = [], 0
            else:
                log.warning("decision log: write failed; will retry", exc_info=True)
                self._retry = rows
            return False
        self.written += len(rows)
        self._retry, self._attempts = [], 0
        return True

    def _run(self) -> None:
        settings = self._settings
        # Nodes and workers that start together should not all prune at the same moment.
        next_prune = time.monotonic() + random.uniform(1.0, min(10.0, settings.prune_interval))
        while not self._stopping.is_set():
            self._queue.wakeup.wait(settings.flush_interval)
            self._queue.wakeup.clear()
            self._step()
            if time.monotonic() >= next_prune:
                self.prune()
                next_prune = time.monotonic() + settings.prune_interval * random.uniform(0.8, 1.2)
        self._final_flush()

    def _step(self) -> None:
        try:
            self.flush()
            self._report_drops()
        except Exception:  # never let the thread die: the next tick tries again
            log.exception("decision log: unexpected error while flushing")

    def _final_flush(self) -> None:
        for _ in range(self.MAX_ATTEMPTS):
            self.flush()
            if not self._retry and not len(self._queue):
                return
        log.error("decision log: %d decisions unwritten at shutdown", len(self._retry) + len(self._queue))

    def _report_drops(self) -> None:
        dropped = self._queue.dropped
        if dropped > self._reported_drops:
            log.warning(
                "decision log: %d decisions dropped (queue of %d full)",
                dropped - self._reported_drops,
                self._settings.queue_size,
            )
            self._reported_drops = dropped


_flusher: DecisionFlusher | None = None
_flusher_lock = threading.Lock()


def start_flusher(db: Database, settings: LogSettings | None = None) -> DecisionFlusher | None:
    """Start this process's flusher for `record()` (the server calls it once per worker). None if disabled."""
    global _flusher, _enabled
    settings = settings or LogSettings()
    _enabled = settings.enabled
    if not settings.enabled:
        _queue.clear()
        return None
    with _flusher_lock:
        if _flusher is not None:
            return _flusher
        _queue.resize(settings.queue_size, settings.batch_rows)
        _flusher = DecisionFlusher(db, _queue, settings)
        _flusher.start()
        return _flusher


def stop_flusher() -> None:
    """Write what is queued and stop the flusher (lifespan shutdown; before the database is disposed)."""
    global _flusher
    with _flusher_lock:
        flusher, _flusher = _flusher, None
    if flusher is not None:
        flusher.stop()
