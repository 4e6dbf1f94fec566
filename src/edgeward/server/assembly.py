"""The composition root: builds the database, secret box, authenticator, authorizer and pipeline."""

from __future__ import annotations

import os
from dataclasses import dataclass

from starlette.applications import Starlette

from edgeward.console.deps import ConsoleDeps
from edgeward.console.web import build_app as build_console
from edgeward.server.authn import Authenticator
from edgeward.server.bootstrap import load_secret_box, stored_account
from edgeward.server.config import Config
from edgeward.server.pipeline import Pipeline
from edgeward.services import decisions
from edgeward.services.authorization import authorize
from edgeward.services.s3.sweep import sweep_in_background
from edgeward.storage.blobs import BlobStore, FileBlobStore
from edgeward.storage.database import Database
from edgeward.storage.secrets import SecretBox


@dataclass
class Service:
    config: Config
    db: Database
    box: SecretBox
    account: str
    pipeline: Pipeline
    console: Starlette | None = None  # the web console's ASGI app, served under /console

    def reset(self) -> None:
        """Dev mode only: wipe every row, then bootstrap again (same account id, same admin key file)."""
        from edgeward.server.bootstrap import bootstrap_account
        from edgeward.server.ca import authorities_kept

        with authorities_kept(self.db, self.box):  # the CA outlives a reset: ca.pem, devices and listeners stay valid
            self.db.wipe()
            bootstrap_account(self.config, self.db, self.box, account_id=self.account, rewrite_credentials=True)

    def close(self) -> None:
        """Lifespan shutdown: write the queued authorization decisions, then close the database pool."""
        decisions.stop_flusher()
        self.db.dispose()


def blob_store(config: Config) -> BlobStore:
    """Where S3 object bytes live: the data directory, or with PostgreSQL the database itself, so that every
    node sharing the database sees the same objects. The PostgreSQL store has its own small pool: streaming
    bytes never takes a connection requests need."""
    from sqlalchemy.engine import make_url  # imports kept here: this function is the S3 service's part of the file

    from edgeward.storage.blobs_pg import PostgresBlobStore
    from edgeward.storage.database import PoolOptions

    url = config.effective_database_url
    if make_url(url).get_backend_name() == "postgresql":
        return PostgresBlobStore(Database(url, pool=PoolOptions(size=4, max_overflow=16)))
    return FileBlobStore(config.data_dir / "blobs")


def assemble(config: Config) -> Service:
    """Build the running service in this process (each worker process calls this once)."""
    box = load_secret_box(config)
    db = Database(config.effective_database_url)
    account = stored_account(db)
    authenticator = Authenticator(db=db, box=box, account=account)
    blobs = blob_store(config)
    pipeline = Pipeline(
        db=db,
        box=box,
        authenticator=authenticator,
        authorizer=authorize,
        default_region=config.region,
        dev=config.dev,
        endpoints=config.iot_endpoints(),
        blobs=blobs,
        bucket_hosts=("localhost", *config.public_hosts),
    )
    sweep_in_background(db, blobs)  # blobs orphaned by a crash between the blob's commit and the database's
    # The decision log's background writer, one per worker process (settings: services/decisions.py).
    decisions.start_flusher(db, decisions.LogSettings.from_env(os.environ))
    console = build_console(ConsoleDeps(db, box, account, config.region, config.iot_endpoints(), blobs))
    return Service(config=config, db=db, box=box, account=account, pipeline=pipeline, console=console)
