"""A fair write lock for SQLite shared by every process on the machine.

SQLite lets one writer in at a time; the others wait in its busy handler, which polls with sleeps of 1 to
100 ms. Under load the lock then sits free while waiters sleep, and an unlucky writer waits seconds. Taking
this lock before `BEGIN IMMEDIATE` makes writers of one process queue on a thread lock (woken the moment the
previous writer commits) and writers of different processes take turns on an `flock`, polled every fraction of a
millisecond. The busy handler is left for writers outside edgeward's server (the CLI, migrations).

Waiting is bounded by the database's busy timeout; past it the writer gets SQLite's own "database is locked".
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.exc import OperationalError

_POLL_START, _POLL_MAX = 0.0001, 0.001


class WriteLock:
    def __init__(self, database_file: Path, timeout: float) -> None:
        self._path = database_file.with_name(database_file.name + "-writelock")
        self._timeout = timeout
        self._pid = -1
        self._fd = -1
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Exclusive across threads (the thread lock: flock is per open file) and processes (flock)."""
        self._after_fork()
        deadline = time.monotonic() + self._timeout
        if not self._threads.acquire(timeout=self._timeout):
            raise _locked()
        try:
            fd = self._file()
            _flock_until(fd, deadline)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _after_fork(self) -> None:
        if self._pid != os.getpid():
            # A child inherits neither the parent's holders nor its file: start clean.
            self._threads = threading.Lock()
            self._fd = -1
            self._pid = os.getpid()

    def _file(self) -> int:
        if self._fd < 0:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd


def _flock_until(fd: int, deadline: float) -> None:
    pause = _POLL_START
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _locked() from None
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
