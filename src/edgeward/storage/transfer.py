"""Every row of one installation copied into another, empty database of the same schema revision: how a
single node on SQLite moves to PostgreSQL to run several nodes (`edgeward move-to-postgres`).

Tables are copied parent before child (`metadata.sorted_tables`), in batches, through SQLAlchemy Core, so
each column's type converts its values both ways (times, JSON). Object bytes do not live in the tables on
SQLite but in the data directory's blob files: each blob an object segment or an upload part refers to is
copied into the target's blob store first, and the row is written with the new blob's id. Afterwards the
target's id sequences are moved past the copied ids. The caller holds both transactions: the target's
commits only when every row was copied, and holding the source's write transaction keeps its rows still.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from edgeward.storage.tables import metadata

BATCH = 500
# Tables that hold a blob store's own bytes (PostgreSQL's): never copied as rows, the blobs are.
BLOB_STORE_TABLES = frozenset({"blob_store_blobs", "blob_store_chunks"})
# Columns naming a blob in the blob store.
BLOB_COLUMNS = {"s3_object_segments": "blob_id", "s3_parts": "blob_id"}

CopyBlob = Callable[[str], str]  # a source blob id -> the id of its copy in the target's store


def copy_rows(source: Connection, target: Connection, copy_blob: CopyBlob) -> dict[str, int]:
    """Copy every table's rows from `source` to `target` (whose tables must be empty); rows per table."""
    counts: dict[str, int] = {}
    for table in metadata.sorted_tables:
        if table.name in BLOB_STORE_TABLES:
            continue
        counts[table.name] = _copy_table(source, target, table, copy_blob)
    return counts


def non_empty_tables(conn: Connection) -> list[str]:
    """The installation's tables that hold rows (an empty database, or a fresh schema, has none)."""
    return [table.name for table in metadata.sorted_tables if conn.execute(select(table).limit(1)).first()]


def advance_sequences(conn: Connection) -> None:
    """PostgreSQL: move each integer id column's sequence past the largest id copied."""
    if conn.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        highest = conn.execute(select(func.max(column))).scalar()
        if highest is not None:  # (a column without a sequence gives setval(NULL): nothing happens)
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, :column), :value)"),
                {"table": table.name, "column": column.name, "value": highest},
            )


def _copy_table(source: Connection, target: Connection, table: Table, copy_blob: CopyBlob) -> int:
    blob_column = BLOB_COLUMNS.get(table.name)
    copied = 0
    ordered = select(table).order_by(*table.primary_key.columns)
    for batch in source.execute(ordered).mappings().partitions(BATCH):
        rows: list[dict[str, Any]] = [dict(row) for row in batch]
        if blob_column is not None:
            for row in rows:
                row[blob_column] = copy_blob(row[blob_column])
        target.execute(insert(table), rows)
        copied += len(rows)
    return copied
