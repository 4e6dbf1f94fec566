"""The composition root: builds the database, secret box, authenticator, authorizer and pipeline."""

from __future__ import annotations

import os
from dataclasses import dataclass

from edgeward.server.authn import Authenticator
from edgeward.server.bootstrap import load_secret_box, stored_account
from edgeward.server.config import Config
from edgeward.server.pipeline import Pipeline
from edgeward.services import decisions
from edgeward.services.authorization import authorize
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

    def reset(self) -> None:
        """Dev mode only: wipe every row, then bootstrap again (same account id, same admin key file)."""
        from edgeward.server.bootstrap import bootstrap_account

        self.db.wipe()
        bootstrap_account(self.config, self.db, self.box, account_id=self.account, rewrite_credentials=True)

    def close(self) -> None:
        """Lifespan shutdown: write the queued authorization decisions, then close the database pool."""
        decisions.stop_flusher()
        self.db.dispose()


def blob_store(config: Config) -> BlobStore:
    """Where S3 object bytes live."""
    return FileBlobStore(config.data_dir / "blobs")


def assemble(config: Config) -> Service:
    """Build the running service in this process (each worker process calls this once)."""
    box = load_secret_box(config)
    db = Database(config.effective_database_url)
    account = stored_account(db)
    authenticator = Authenticator(db=db, box=box, account=account)
    pipeline = Pipeline(
        db=db,
        box=box,
        authenticator=authenticator,
        authorizer=authorize,
        default_region=config.region,
        dev=config.dev,
        endpoints=config.iot_endpoints(),
        blobs=blob_store(config),
    )
    # The decision log's background writer, one per worker process (settings: services/decisions.py).
    decisions.start_flusher(db, decisions.LogSettings.from_env(os.environ))
    return Service(config=config, db=db, box=box, account=account, pipeline=pipeline)
