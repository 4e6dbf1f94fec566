"""`edgeward ca export`: the CA bundle devices and clients trust (root, then issuing CA), as in `ca.pem`.

Reads the certificates from the database (no key-encryption key needed: nothing secret is read), so it works
on any node of a PostgreSQL installation and while the server runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from edgeward.cli.where import add_database_options, database_url
from edgeward.storage.database import Database
from edgeward.storage.repos.authorities import KINDS, sealed_authorities


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("ca", help="the certificate authority devices and clients trust")
    actions = parser.add_subparsers(dest="ca_command", required=True)
    export = actions.add_parser(
        "export",
        help="print the CA bundle (root then issuing CA), the same as <data-dir>/ca.pem",
        description="Print the CA bundle: give it to curl --cacert, openssl verify -CAfile, or your devices.",
    )
    add_database_options(export)
    export.add_argument("--out", type=Path, default=None, help="write the bundle to this file instead of stdout")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    try:
        db = Database(database_url(args))
    except (LookupError, ValueError) as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return 2
    try:
        with db.read() as conn:
            sealed = sealed_authorities(conn)
    except SQLAlchemyError as exc:
        print(f"edgeward: cannot read the certificate authority: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    if any(kind not in sealed for kind in KINDS):
        print("edgeward: no certificate authority in this installation yet: run `edgeward serve` once", file=sys.stderr)
        return 1
    bundle = "".join(sealed[kind].certificate_pem for kind in KINDS)
    if args.out is None:
        sys.stdout.write(bundle)
    else:
        args.out.write_text(bundle, encoding="ascii")
    return 0
