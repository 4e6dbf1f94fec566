"""`edgeward move-to-postgres`: an installation on SQLite (one node) copied into an empty PostgreSQL database,
so that several nodes can serve it: every user, key, role, policy, certificate, CA, thing, fleet, device,
bucket and object, with the same account and the same key-encryption key.

Stop the server first. The command brings both schemas to this version's revision, refuses a target that
holds any rows, then copies under SQLite's write lock (nothing can change meanwhile) inside one PostgreSQL
transaction: the target ends up with all of it or none. Object bytes move from the data directory's blob
files into PostgreSQL. The SQLite database and blob files are left as they were.

Afterwards, start every node with `--database-url` and the installation's key-encryption key: the data
directory's `kek` file copied to each node's data directory, or `EDGEWARD_KEK` (the secrets stay sealed under
it). Do not start a server on the old SQLite database again: the two would drift apart.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edgeward.storage.blobs import FileBlobStore
from edgeward.storage.blobs_pg import PostgresBlobStore
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.transfer import advance_sequences, copy_rows, non_empty_tables


class MoveError(Exception):
    """What the operator must fix; printed without a stack trace."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "move-to-postgres",
        help="copy a SQLite installation (server stopped) into an empty PostgreSQL database, for several nodes",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="the SQLite installation's data directory")
    parser.add_argument("--database-url", required=True, help="the empty PostgreSQL database to move it into")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        counts = move(args.data_dir, args.database_url)
    except MoveError as exc:
        print(f"edgeward move-to-postgres: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the operator needs the reason; nothing was committed in the target
        print(f"edgeward move-to-postgres: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    rows = sum(counts.values())
    print(f"copied {rows} rows of {sum(1 for n in counts.values() if n)} tables into {_safe(args.database_url)}")
    print(
        f"start every node with --database-url and the key-encryption key of {args.data_dir} "
        "(its `kek` file in each node's data directory, or EDGEWARD_KEK); leave the SQLite database unused"
    )
    return 0


def move(data_dir: Path, url: str) -> dict[str, int]:
    """Copy everything; the rows copied per table."""
    if not (data_dir / "edgeward.db").is_file():
        raise MoveError(f"no edgeward database in {data_dir}")
    source, target = Database(sqlite_url(data_dir)), Database(url)
    if target.dialect != "postgresql":
        raise MoveError("--database-url must be a PostgreSQL URL (postgresql+psycopg://...)")
    blobs = PostgresBlobStore(target)
    try:
        source.migrate()
        target.migrate()
        with target.read() as conn:
            holding = non_empty_tables(conn)
        if holding:
            raise MoveError(f"the target database already holds an installation (rows in {', '.join(holding[:3])})")
        files = FileBlobStore(data_dir / "blobs")
        with source.transaction() as from_conn, target.transaction() as to_conn:
            counts = copy_rows(from_conn, to_conn, lambda blob_id: _copy_blob(files, blobs, blob_id))
            advance_sequences(to_conn)
        return counts
    finally:
        source.dispose()
        target.dispose()


def _copy_blob(files: FileBlobStore, blobs: PostgresBlobStore, blob_id: str) -> str:
    """One blob's bytes into PostgreSQL; its new id. (A blob copied for a move that then fails is an orphan,
    removed by the server's orphan sweep.)"""
    writer = blobs.writer()
    try:
        for piece in files.read(blob_id):
            writer.write(piece)
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
