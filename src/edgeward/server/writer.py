"""Group commit for SQLite: one writer thread per process runs write requests in batches, one COMMIT each.

Every SQLite commit fsyncs the WAL (`synchronous=FULL`), and writers in several processes queue on one lock;
committing requests one by one caps the throughput at a few hundred writes a second. The event loop hands
each write request's unit of work to `GroupWriter.submit`; the writer thread takes the first queued request
plus whatever else is waiting (up to `max_batch`, never waiting for more), opens one write transaction
(`BEGIN IMMEDIATE`), runs each request inside its own SAVEPOINT — a request that fails rolls back only its own
work and gets its own error response — then COMMITs once. Only after the COMMIT are the replies built and
the requests' futures resolved: nothing is acknowledged before it is durable. When the COMMIT fails, every
request of the batch gets an error (those that had succeeded: InternalFailure), never a success.

Everything the writer thread does, every writer of the database waits for, so it does as little as it can:
a batch of one needs no savepoint (a request that fails rolls the whole transaction back); savepoints are
SQL handed to the driver as is (SQLAlchemy's `begin_nested` compiles its SAVEPOINT and RELEASE anew each
time, which cost as much as a request's own statements); and work that needs no database (parsing the
parameters, sealing new secrets) is done on the event loop before the request is queued
(`before_transaction`).

Post-commit steps (a handler's `ctx.extras["after_commit"]` callables, e.g. deleting the blobs of replaced S3
objects) run in `finish`, so never for a request whose savepoint or batch rolled back; `failed` instead undoes
what lives outside the database (an upload's staged blob).

At most `capacity` requests are queued or running; further ones wait for a slot (backpressure).

Several worker processes each have a writer. SQLite's own busy handler lets a waiting writer sleep 1..100 ms
between tries, while the process holding the lock commits and takes it again at once: the waiting process
starves. So `Database.transaction()` takes the storage layer's write lock first (`storage/writelock.py`): a
thread lock within the process and an `flock` across processes, polled at sub-millisecond intervals.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

from edgeward.protocol.http import HttpResponse
from edgeward.storage.database import Database

log = logging.getLogger("edgeward.writer")

MAX_BATCH = 64
CAPACITY = 1024


class UnitOfWork(Protocol):
    """A write request as the writer sees it (`server.pipeline.Work`).

    It may also have `before_transaction()`: the part of its work that needs no database, which `submit` runs
    on the event loop before queueing it. That must not raise (a failure is kept for `run` to raise, in the
    request's order of checks).
    """

    def run(self, conn: Connection) -> None:
        """Its database work in `conn`'s current transaction; raises what the request fails with."""

    def finish(self) -> HttpResponse:
        """After the COMMIT: post-commit steps and the reply."""

    def failed(self, exc: BaseException) -> HttpResponse:
        """The error reply for what `run` or the COMMIT raised."""


class WriterClosed(RuntimeError):
    """The writer has stopped; run the request inline instead."""


@dataclass(slots=True)
class _Item:
    work: UnitOfWork
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[HttpResponse]
    release: asyncio.Semaphore


_STOP = object()


class GroupWriter:
    """One per process (SQLite only). `start()`, then `await submit(work)` from the event loop; `stop()` drains."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH, capacity: int = CAPACITY) -> None:
        self._db = db
        self._max_batch = max_batch
        self._capacity = capacity
        self._queue: queue.SimpleQueue[_Item | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._slots: asyncio.Semaphore | None = None
        self._thread = threading.Thread(target=self._loop, name="edgeward-writer", daemon=True)
        self.batches = 0
        self.requests = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new work, run everything already queued, then end the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the group-commit writer did not finish its queue within %.0f s", timeout)
                return

    @property
    def running(self) -> bool:
        return not self._closed and self._thread.is_alive()

    async def submit(self, work: UnitOfWork) -> HttpResponse:
        """Queue `work` (waiting for a slot when `capacity` are pending); its reply once its batch committed.

        Raises `WriterClosed` after `stop()`.
        """
        prepare = getattr(work, "before_transaction", None)  # (a runtime Protocol check costs 10x more)
        if prepare is not None:
            prepare()
        slots = self._semaphore()
        await slots.acquire()
        loop = asyncio.get_running_loop()
        item = _Item(work, loop, loop.create_future(), slots)
        with self._lock:
            if self._closed:
                slots.release()
                raise WriterClosed("the group-commit writer has stopped")
            self._queue.put(item)
        return await asyncio.shield(item.future)

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._capacity)
        return self._slots

    # -- the writer thread -------------------------------------------------------------------------

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Item)
            stopping = self._process(first)

    def _take_more(self, batch: list[_Item]) -> bool:
        """Add whatever is queued now to `batch`, up to `max_batch`; True when the stop signal came."""
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            assert isinstance(item, _Item)
            batch.append(item)
        return False

    def _process(self, first: _Item) -> bool:
        """Run `first` and what joins it in one transaction, then resolve every reply; True when stopping."""
        batch = [first]
        stopping = False
        try:
            responses, stopping = self._commit(batch)
        except BaseException as exc:  # never leave a request without a reply, nor the thread dead
            log.exception("group commit of %d write requests failed unexpectedly", len(batch))
            responses = [_failed(item.work, exc) for item in batch]
        self.batches += 1
        self.requests += len(batch)
        for item, response in zip(batch, responses, strict=True):
            _resolve(item, response)
        return stopping

    def _commit(self, batch: list[_Item]) -> tuple[list[HttpResponse], bool]:
        """One transaction for `batch`, COMMIT, then the replies; also whether the stop signal came.

        The batch is completed only once the transaction has begun: while this writer waits for the write
        lock (another process is committing), requests keep arriving, and they join this batch instead of
        waiting for the next fsync. Each runs in its own savepoint, except a batch of one, whose failure
        rolls the whole transaction back.
        """
        stopping = False
        errors: list[BaseException | None] = []
        try:
            with self._db.transaction() as conn:  # Database.transaction takes the cross-process write lock
                stopping = self._take_more(batch)
                if len(batch) == 1:
                    batch[0].work.run(conn)  # what it raises rolls the transaction back
                    errors = [None]
                else:
                    errors = [_run_in_savepoint(conn, item.work) for item in batch]
        except Exception as exc:  # BEGIN, COMMIT or a lone request failed: nothing of the batch is durable
            errors += [None] * (len(batch) - len(errors))
            return [_failed(item.work, error or exc) for item, error in zip(batch, errors, strict=True)], stopping
        return [_reply(item.work, error) for item, error in zip(batch, errors, strict=True)], stopping


_SAVEPOINT = "SAVEPOINT edgeward_request"
_RELEASE = "RELEASE SAVEPOINT edgeward_request"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT edgeward_request"


def _run_in_savepoint(conn: Connection, work: UnitOfWork) -> BaseException | None:
    """Run `work` in a savepoint; what it raised (its savepoint rolled back), or None.

    A failure of the savepoint statements themselves propagates: the batch's transaction is then in doubt
    and is rolled back whole.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(_SAVEPOINT)
    try:
        work.run(conn)
    except Exception as exc:
        driver.execute(_ROLLBACK_TO)
        driver.execute(_RELEASE)
        return exc
    driver.execute(_RELEASE)
    return None


def _reply(work: UnitOfWork, error: BaseException | None) -> HttpResponse:
    """After the COMMIT: the reply of a request that succeeded, or the error reply of one that failed."""
    return work.finish() if error is None else _failed(work, error)


def _failed(work: UnitOfWork, exc: BaseException) -> HttpResponse:
    try:
        return work.failed(exc)
    except Exception:
        log.exception("could not build an error reply")
        return HttpResponse(500, [("content-type", "text/plain")], b"InternalFailure")


def _resolve(item: _Item, response: HttpResponse) -> None:
    try:
        item.loop.call_soon_threadsafe(_settle, item, response)
    except RuntimeError:  # the event loop has closed: nobody is waiting any more
        log.warning("a write request's event loop closed before its reply")


def _settle(item: _Item, response: HttpResponse) -> None:
    """On the event loop: hand the reply over and free the request's slot."""
    item.release.release()
    if not item.future.done():
        item.future.set_result(response)
