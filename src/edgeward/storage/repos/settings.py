"""Install-level key/value settings (account id of the installation, CA ids, feature flags)."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from edgeward.storage.tables import settings


def get_setting(conn: Connection, key: str) -> str | None:
    return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar_one_or_none()


def get_settings(conn: Connection, prefix: str = "") -> dict[str, str]:
    stmt = select(settings.c.key, settings.c.value).order_by(settings.c.key)
    return {key: value for key, value in conn.execute(stmt) if key.startswith(prefix)}


def put_setting(conn: Connection, key: str, value: str) -> None:
    """Insert or overwrite `key`."""
    stmt = _insert(conn).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=[settings.c.key], set_={"value": value}))


def put_setting_if_absent(conn: Connection, key: str, value: str) -> str:
    """Store `value` unless `key` already has one; returns the value now in force.

    Race-safe: when two nodes propose different values at once, both end up with the same winner.
    """
    conn.execute(_insert(conn).values(key=key, value=value).on_conflict_do_nothing())
    stored = get_setting(conn, key)
    if stored is None:  # pragma: no cover - a concurrent delete between the two statements
        raise RuntimeError(f"setting {key!r} vanished while being created")
    return stored


def delete_setting(conn: Connection, key: str) -> bool:
    return conn.execute(settings.delete().where(settings.c.key == key)).rowcount > 0


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(settings)
    return sqlite.insert(settings)
