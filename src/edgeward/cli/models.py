"""`edgeward models register`: record an already-packaged model artifact as a COMPLETED Edge packaging job.

edgeward does not compile or package models. Package the model elsewhere, upload it to S3 (edgeward's, or any
store your devices can read — then give --sha1), and register it; deployment plans name the job in their
ModelConfigs, and devices receive the artifact's S3 URL and SHA-1 from GetDeployments.

Writes to the database directly (like `edgeward decisions`, no key-encryption key needed), so it works while
the server runs and on any node of a PostgreSQL installation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from edgeward.cli.where import add_database_options, database_url
from edgeward.server.bootstrap import BootstrapError, stored_account
from edgeward.server.config import DEFAULT_REGION
from edgeward.services.sagemaker.packaging import PackagedModel, PackageError, job_shape, register_packaged_model
from edgeward.storage.blobs import BlobStore, FileBlobStore
from edgeward.storage.database import Database


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("models", help="model packages that edge deployment plans deploy")
    actions = parser.add_subparsers(dest="models_command", required=True)
    register = actions.add_parser(
        "register",
        help="register a packaged model artifact in S3 as a COMPLETED edge packaging job",
        description="Register a model packaged outside edgeward (edgeward does not compile models) as a COMPLETED "
        "edge packaging job. Its SHA-1 is read from edgeward's S3 unless --sha1 gives it.",
    )
    add_database_options(register)
    register.add_argument("job_name", metavar="JOBNAME", help="the EdgePackagingJobName plans will name")
    register.add_argument("--model-name", required=True)
    register.add_argument("--model-version", required=True)
    register.add_argument("--s3-url", required=True, help="s3://bucket/key of the packaged model")
    register.add_argument("--sha1", help="the artifact's SHA-1 (hex), when it is not in edgeward's S3")
    register.add_argument("--region", default=DEFAULT_REGION, help=f"region of the job (default: {DEFAULT_REGION})")
    register.set_defaults(run=run_register)


def run_register(args: argparse.Namespace) -> int:
    try:
        url = database_url(args)
        db = Database(url)
    except (LookupError, ValueError) as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return 2
    blobs = _blob_store(url, args.data_dir)
    model = PackagedModel(args.job_name, args.model_name, args.model_version, args.s3_url, args.sha1)
    try:
        account = stored_account(db)
        with db.transaction() as conn:
            job = register_packaged_model(conn, blobs, account, args.region, model)
    except (BootstrapError, PackageError) as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"edgeward: cannot register the model: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
        _close(blobs)
    print(json.dumps(job_shape(job), default=str, indent=2))
    return 0


def _blob_store(url: str, data_dir: Path | None) -> BlobStore | None:
    """Where the server keeps S3 object bytes (the same choice `edgeward serve` makes)."""
    if make_url(url).get_backend_name() == "postgresql":
        from edgeward.storage.blobs_pg import PostgresBlobStore

        return PostgresBlobStore(Database(url))
    database = make_url(url).database
    root = Path(database).parent / "blobs" if database else (data_dir or Path("edgeward-data")) / "blobs"
    return FileBlobStore(root) if root.is_dir() else None


def _close(blobs: BlobStore | None) -> None:
    db = getattr(blobs, "db", None)
    if isinstance(db, Database):
        db.dispose()
