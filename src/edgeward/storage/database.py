"""The database handle: engine lifecycle across forks, transactions, migrations, dev-mode wipe.

Create one `Database` per process from a URL. Nothing connects until first use, so the server can
build it in the parent, `migrate()`, `dispose()`, then fork workers: a child that touches a Database
inherited from its parent drops the parent's pooled connections (without closing them) and opens its
own. `for_worker()` gives an explicitly fresh handle for code that prefers that.

SQLite (the default, one file in the data directory; see `storage.sqlite`):
- WAL journal, `synchronous=FULL` (a commit that was acknowledged survives power loss, not only a crash),
  `busy_timeout` 30 s, foreign keys on;
- `transaction()` starts with `BEGIN IMMEDIATE`, so writers from several processes queue on the lock up
  front instead of failing with "database is locked" when a read transaction tries to become a write;
- `read()` starts a deferred transaction with `PRAGMA query_only` on (a consistent snapshot; writes fail).

PostgreSQL: a bounded pool with pre-ping; `read()` is a `BEGIN READ ONLY` transaction (psycopg puts the
READ ONLY in its BEGIN, so it costs no extra round trip, and a stray write fails loudly as on SQLite).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url

from edgeward.storage import schema, sqlite
from edgeward.storage.tables import metadata
from edgeward.storage.writelock import WriteLock

DEFAULT_FILENAME = "edgeward.db"
_MAX_READERS = 8  # threads that may keep a read connection of their own (SQLite); the pool holds 15
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

log = logging.getLogger(__name__)

_fork_generation = 0


def _count_fork() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_count_fork)


def sqlite_url(data_dir: Path) -> str:
    """The default database URL: `edgeward.db` in the data directory."""
    return f"sqlite:///{(data_dir / DEFAULT_FILENAME).absolute()}"


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """Connection pool bounds per process (PostgreSQL; SQLite uses size and overflow only)."""

    # At least the server's 16 request threads on PostgreSQL: a smaller pool opens a new session for about one
    # request in ten under load (measured with bench/mixed_load.py).
    size: int = 16
    max_overflow: int = 10
    timeout: float = 30.0
    recycle_seconds: int = 1800
    pre_ping: bool = True


class Database:
    """One per process. `transaction()` for anything that writes, `read()` for reads."""

    def __init__(
        self,
        url: str | URL,
        *,
        pool: PoolOptions | None = None,
        busy_timeout: float = 30.0,
        echo: bool = False,
    ) -> None:
        self._url = make_url(url)
        self._dialect = self._url.get_backend_name()
        if self._dialect not in SUPPORTED_BACKENDS:
            raise ValueError(f"unsupported database {self._dialect!r}; use sqlite or postgresql")
        if self._dialect == "sqlite" and self._url.database in (None, "", ":memory:"):
            raise ValueError("edgeward needs a SQLite file (sqlite:///path/edgeward.db), not an in-memory db")
        self._pool = pool or PoolOptions()
        self._busy_timeout = busy_timeout
        self._echo = echo
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._generation = _fork_generation
        self._readers: dict[int, Connection] = {}  # thread id -> its held read connection (SQLite)
        self._write_lock = WriteLock(Path(str(self._url.database)), busy_timeout) if self._dialect == "sqlite" else None

    # -- identity ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The full URL, password included: for building another handle, never for logs."""
        return self._url.render_as_string(hide_password=False)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._dialect

    def __repr__(self) -> str:
        return f"Database({self._url.render_as_string(hide_password=True)!r})"

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._generation != _fork_generation:
            self._forget_parent_engine()
        engine = self._engine
        if engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_engine()
                engine = self._engine
        return engine

    def dispose(self) -> None:
        """Close every pooled connection; the next use opens new ones. Call in the parent before forking."""
        engine, self._engine = self._engine, None
        readers, self._readers = self._readers, {}
        for held in readers.values():
            with contextlib.suppress(Exception):  # another thread's connection: it is not in use at shutdown
                held.close()
        if engine is not None:
            engine.dispose()

    def for_worker(self) -> Database:
        """A fresh handle on the same database with the same settings, sharing nothing with this one."""
        return Database(self._url, pool=self._pool, busy_timeout=self._busy_timeout, echo=self._echo)

    def _forget_parent_engine(self) -> None:
        inherited, self._engine = self._engine, None
        self._readers = {}  # the parent's: dropped, never used or closed here
        self._lock = threading.Lock()
        self._generation = _fork_generation
        if inherited is not None:
            inherited.dispose(close=False)  # the sockets/files belong to the parent: drop, never close

    def _create_engine(self) -> Engine:
        if self._dialect == "sqlite":
            return self._create_sqlite_engine()
        return self._create_postgresql_engine()

    def _create_sqlite_engine(self) -> Engine:
        engine = create_engine(
            self._url,
            connect_args={"timeout": self._busy_timeout},
            pool_size=self._pool.size,
            max_overflow=self._pool.max_overflow,
            pool_timeout=self._pool.timeout,
            hide_parameters=True,
            echo=self._echo,
        )
        sqlite.install_hooks(engine, self._busy_timeout)
        return engine

    def _create_postgresql_engine(self) -> Engine:
        connect_args: dict[str, Any] = {}
        if "application_name" not in self._url.query:
            connect_args["application_name"] = "edgeward"
        return create_engine(
            self._url,
            connect_args=connect_args,
            pool_size=self._pool.size,
            max_overflow=self._pool.max_overflow,
            pool_timeout=self._pool.timeout,
            pool_recycle=self._pool.recycle_seconds,
            pool_pre_ping=self._pool.pre_ping,
            hide_parameters=True,  # parameters may carry ciphertexts or tags: keep them out of logs
            echo=self._echo,
        )

    # -- units of work -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed when the block exits, rolled back if it raises.

        Send the reply only after the block has exited: that is when the commit has happened.
        """
        if self._write_lock is None:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._write_lock.held(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def read(self, *, keep: bool = False) -> Iterator[Connection]:
        """A connection for reads only (writes fail on SQLite and are a bug anywhere).

        `keep=True` (the request pipeline's reads on the event loop): with SQLite, this thread keeps its
        connection between calls instead of checking one out of the pool and back, which costs as much as
        a small read itself.
        """
        held = self._held_reader() if keep and self._dialect == "sqlite" else None
        if held is not None:
            sqlite.begin_reading(held)
            try:
                with held.begin():
                    yield held
            finally:
                if held.invalidated or held.closed:
                    self._readers.pop(threading.get_ident(), None)
            return
        with self.engine.connect() as conn:
            if self._dialect == "sqlite":
                sqlite.begin_reading(conn)
                with conn.begin():
                    yield conn
            else:
                # BEGIN READ ONLY: one snapshot for the whole request, and a stray write fails loudly.
                conn.execution_options(postgresql_readonly=True)
                with conn.begin():
                    yield conn

    def _held_reader(self) -> Connection | None:
        """This thread's own SQLite connection for reads, kept between calls; None past `_MAX_READERS` threads
        and while this thread's is in use (a read inside a read)."""
        engine, thread = self.engine, threading.get_ident()
        held = self._readers.get(thread)
        if held is not None:
            if held.engine is engine and not held.closed and not held.invalidated:
                return None if held.in_transaction() else held
            del self._readers[thread]
        if len(self._readers) >= _MAX_READERS:
            return None
        held = self._readers[thread] = engine.connect()
        return held

    # -- schema ------------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision shipped in the package; a no-op when current.

        Safe when several processes or nodes start at once: on PostgreSQL they queue on an advisory
        lock held for the migrating transaction, on SQLite on the `BEGIN IMMEDIATE` write lock; the
        later ones then find the schema current.
        """
        with self.engine.connect() as conn:
            schema.upgrade(conn)

    def schema_revision(self) -> str | None:
        """The revision the database is at (None before the first migration)."""
        with self.read() as conn:
            return schema.current_revision(conn)

    def is_current(self) -> bool:
        """True when the schema is at the newest revision this code knows (check it in workers)."""
        return self.schema_revision() == schema.head_revision()

    def wipe(self) -> None:
        """Delete every row of every edgeward table (dev-mode reset). The schema stays."""
        with self.transaction() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
        log.warning("database wiped: all rows of all tables deleted")
