"""First start: data directory, key-encryption key, schema, the account, its administrator and credentials file,
and the certificate authority (created once, `ca.pem` rewritten on every start)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from edgeward.core import ids
from edgeward.server.ca import ensure_authorities
from edgeward.server.config import Config
from edgeward.services.iam.bootstrap import create_administrator
from edgeward.storage.database import Database
from edgeward.storage.repos import accounts, settings
from edgeward.storage.repos.authorities import Authorities
from edgeward.storage.secrets import SecretBox

log = logging.getLogger("edgeward.bootstrap")

ADMIN_USER = "admin"


class BootstrapError(Exception):
    """The data directory cannot be used as asked (e.g. it belongs to another account id)."""


@dataclass(frozen=True)
class Prepared:
    account: str
    created: bool
    db: Database
    box: SecretBox
    authorities: Authorities | None = None


def prepare(config: Config) -> Prepared:
    """Everything `edgeward serve` needs before it opens its port; safe to run on every start."""
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    box = load_secret_box(config)
    db = Database(config.effective_database_url)
    db.migrate()
    _check_key_encryption_key(db, box)
    existing = _existing_account(db)
    if existing is not None:
        if config.account_id and config.account_id != existing:
            raise BootstrapError(
                f"the database already belongs to account {existing}; "
                f"--account-id {config.account_id} does not match it"
            )
        account, created = existing, False
    else:
        account, created = config.account_id or ids.account_id(), True
        if not ids.is_account_id(account):
            raise BootstrapError(f"--account-id must be 12 digits, got {account!r}")
        bootstrap_account(config, db, box, account_id=account, rewrite_credentials=True)
    authorities = ensure_authorities(config, db, box)
    return Prepared(account=account, created=created, db=db, box=box, authorities=authorities)


def bootstrap_account(
    config: Config, db: Database, box: SecretBox, *, account_id: str, rewrite_credentials: bool
) -> None:
    """Create the account and its administrator in one transaction; the credentials file is written before
    the commit and removed again if the commit fails, so file and database never disagree."""
    path = config.credentials_path
    try:
        with db.transaction() as conn:
            accounts.create_account(conn, account_id)
            access_key_id, secret = create_administrator(conn, account_id, ADMIN_USER, box)
            if rewrite_credentials:
                write_credentials(path, access_key_id, secret)
    except BaseException:
        if rewrite_credentials:
            path.unlink(missing_ok=True)
        raise
    log.info("created account %s with administrator user %r", account_id, ADMIN_USER)


def write_credentials(path: Path, access_key_id: str, secret: str) -> None:
    """The AWS shared-credentials format, mode 0600, replaced atomically."""
    text = (
        "# edgeward administrator credentials (IAM user 'admin'); keep this file private.\n"
        "[default]\n"
        f"aws_access_key_id = {access_key_id}\n"
        f"aws_secret_access_key = {secret}\n"
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


KEK_SETTING = "kek_id"


def _check_key_encryption_key(db: Database, box: SecretBox) -> None:
    """Refuse to start with a key-encryption key other than the one the database's secrets were sealed with
    (e.g. a second node given its own key file instead of the shared EDGEWARD_KEK)."""
    with db.transaction() as conn:
        recorded = settings.put_setting_if_absent(conn, KEK_SETTING, box.key_id)
    if recorded != box.key_id:
        raise BootstrapError(
            f"the database's secrets are sealed with key-encryption key id {recorded}, but the loaded key has id "
            f"{box.key_id}: give every node the same key (EDGEWARD_KEK, or the same kek file)"
        )


def load_secret_box(config: Config) -> SecretBox:
    """The key-encryption key from EDGEWARD_KEK when the operator supplies one, else a 0600 file."""
    from_env = SecretBox.from_env()
    if from_env is not None:
        return from_env
    pending = next_key_path(config.kek_path)
    if pending.exists():
        raise BootstrapError(
            f"an interrupted `edgeward kek rotate` left {pending}: run `edgeward kek rotate` again to finish it"
        )
    return SecretBox.load_or_create(config.kek_path)


def next_key_path(key_file: Path) -> Path:
    """Where `edgeward kek rotate` keeps the new key until every secret is re-sealed under it."""
    return key_file.with_name(f"{key_file.name}.next")


def stored_account(db: Database) -> str:
    account = _existing_account(db)
    if account is None:
        raise BootstrapError("the database has no account yet: run `edgeward serve` to initialise it")
    return account


def _existing_account(db: Database) -> str | None:
    with db.read() as conn:
        record = accounts.get_account(conn)
    return None if record is None else record.account_id
