"""Schema migrations: Alembic, configured in code, with the revisions shipped in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select

from edgeward.storage import sqlite

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key: the ASCII of "edgeward", so other applications' keys are unlikely to clash.
MIGRATION_LOCK_KEY = int.from_bytes(b"edgeward", "big")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured for the package's migrations; no alembic.ini exists or is needed.

    To start a new revision: `command.revision(alembic_config(), "message")`; to autogenerate it,
    pass a connection to a migrated database and `autogenerate=True`. Review and edit the file it
    writes to `storage/migrations/versions/` (it must run on SQLite and PostgreSQL).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in the package")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection) -> None:
    """Upgrade to head in one transaction on `conn` (which must not have begun one).

    Concurrent callers serialize: on PostgreSQL on an advisory lock held by the migrating
    transaction, on SQLite on the `BEGIN IMMEDIATE` write lock. Later ones find the schema current.
    """
    if conn.dialect.name == "sqlite":
        with sqlite.foreign_keys_off(conn), conn.begin():
            command.upgrade(alembic_config(conn), "head")
            sqlite.check_foreign_keys(conn)
    else:
        with conn.begin():
            conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            command.upgrade(alembic_config(conn), "head")
