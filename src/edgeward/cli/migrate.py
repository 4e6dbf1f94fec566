"""`edgeward migrate`: upgrade the database schema to this version's, explicitly, and say where it stands.

`edgeward serve` migrates on start too; running it first lets an operator upgrade during a maintenance window,
see the revision, and start several nodes afterwards without any of them migrating. `--check` changes nothing:
it exits 1 when the schema is behind (or ahead: written by a newer edgeward).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edgeward.cli.backup import database_url, where_arguments
from edgeward.storage import schema
from edgeward.storage.database import Database


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("migrate", help="upgrade the database schema now and report its revision")
    where_arguments(parser)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if the schema is not current")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    db = Database(database_url(args))
    head = schema.head_revision()
    try:
        before = db.schema_revision()
        if before is not None and not _known(before):
            print(f"edgeward migrate: the schema is at {before}, newer than this edgeward knows ({head})")
            return 1
        if args.check:
            print(f"schema revision {before or 'none'} (this edgeward: {head}); " + _state(before, head))
            return 0 if before == head else 1
        db.migrate()
        after = db.schema_revision()
    except Exception as exc:  # the operator needs the reason, not a stack trace
        print(f"edgeward migrate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    change = "already current" if before == after else f"upgraded from {before or 'an empty database'}"
    print(f"schema revision {after} ({change})")
    return 0


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return ScriptDirectory.from_config(schema.alembic_config()).get_revision(revision) is not None
    except Exception:
        return False


def _state(revision: str | None, head: str) -> str:
    return "current" if revision == head else "needs `edgeward migrate`"
