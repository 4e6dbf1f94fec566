"""Alembic environment: always runs on a connection handed over by `Database.migrate()`.

The caller owns the transaction (and, on PostgreSQL, the advisory lock around it), so Alembic
neither opens connections nor commits.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from edgeward.storage.tables import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("edgeward migrations run through Database.migrate(), which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("edgeward does not support offline (SQL script) migrations")
run_migrations_online()
