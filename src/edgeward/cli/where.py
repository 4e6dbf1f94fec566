"""Which database a command reads: `--data-dir` or `--database-url`, then the environment, as `edgeward serve`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edgeward.storage.database import sqlite_url


def add_database_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the server's data directory (default: $EDGEWARD_DATA_DIR or ./edgeward-data)",
    )
    where.add_argument("--database-url", default=None, help="PostgreSQL URL (default: $EDGEWARD_DATABASE_URL)")


def database_url(args: argparse.Namespace) -> str:
    """The URL to read: --database-url, --data-dir, then the environment; LookupError when there is none."""
    if args.database_url:
        return str(args.database_url)
    if args.data_dir is None and os.environ.get("EDGEWARD_DATABASE_URL"):
        return os.environ["EDGEWARD_DATABASE_URL"]
    data_dir = args.data_dir or Path(os.environ.get("EDGEWARD_DATA_DIR", "edgeward-data"))
    if not (data_dir / "edgeward.db").is_file():
        raise LookupError(f"no edgeward database in {data_dir} (give --data-dir or --database-url)")
    return sqlite_url(data_dir)
