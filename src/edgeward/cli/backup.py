"""`edgeward backup`: the database, the S3 object bytes and the keys of an installation, in one tar file.

Consistent while the server runs:
- SQLite: SQLite's online backup API copies the database while edgeward's write lock is held, and in the same
  moment every finished blob file is hard-linked aside. Blobs are written before the row that refers to them
  commits and deleted only after the row's deletion committed, so every blob the copy refers to is among the
  links (a few unreferenced ones may come along; the orphan sweep removes them after a restore).
- PostgreSQL: `pg_dump` (one repeatable-read snapshot), which includes the blob store (it lives in the database).

The archive holds `manifest.json`, `database/` (`edgeward.db` or `edgeward.pgdump`), `blobs/` (SQLite) and
`files/kek` and `files/credentials` — unless `--without-kek`. With the key-encryption key the archive is
enough to read every secret of the installation: protect it like the kek file itself. Without it, the
database's secrets stay sealed and the operator must keep the key elsewhere (or supply EDGEWARD_KEK).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import URL, make_url

from edgeward import __version__
from edgeward.core import clock
from edgeward.storage.database import DEFAULT_FILENAME, Database, sqlite_url
from edgeward.storage.repos import accounts
from edgeward.storage.secrets import ENV_VAR, SecretBox
from edgeward.storage.writelock import WriteLock

FORMAT = "edgeward-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/edgeward.db"
PGDUMP_MEMBER = "database/edgeward.pgdump"
KEK_MEMBER = "files/kek"
CREDENTIALS_MEMBER = "files/credentials"
LOCK_TIMEOUT = 60.0


class BackupError(Exception):
    """What the operator must fix; printed without a stack trace."""


def add_parsers(commands: Any) -> None:
    backup = commands.add_parser(
        "backup",
        help="write the database, object bytes and keys to one file (safe while the server runs)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    where_arguments(backup)
    backup.add_argument("--out", type=Path, required=True, help="the archive to write (.tar, or .tar.gz to compress)")
    backup.add_argument(
        "--without-kek",
        action="store_true",
        help="leave out the key-encryption key and the admin credentials file (keep the key elsewhere)",
    )
    backup.set_defaults(run=run_backup)

    restore = commands.add_parser(
        "restore",
        help="restore a backup into a data directory / database (stop the server first)",
        description="Restore an `edgeward backup` archive, then upgrade its schema to this version's.",
    )
    where_arguments(restore)
    restore.add_argument("--from", dest="source", type=Path, required=True, help="the archive to restore")
    restore.add_argument(
        "--force", action="store_true", help="replace an installation that is already there (its data is lost)"
    )
    from edgeward.cli.backup_restore import run_restore

    restore.set_defaults(run=run_restore)


def where_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("EDGEWARD_DATA_DIR", "edgeward-data")),
        help="the server's data directory (default: $EDGEWARD_DATA_DIR or ./edgeward-data)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EDGEWARD_DATABASE_URL"),
        help="PostgreSQL URL when the server uses one (default: $EDGEWARD_DATABASE_URL; else SQLite in --data-dir)",
    )


def database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or sqlite_url(args.data_dir))


def run_backup(args: argparse.Namespace) -> int:
    try:
        manifest = backup(args.data_dir, database_url(args), args.out, with_kek=not args.without_kek)
    except BackupError as exc:
        print(f"edgeward backup: {exc}", file=sys.stderr)
        return 1
    print(
        f"backup of account {manifest['account']} ({manifest['database']}, schema {manifest['revision']}, "
        f"{manifest['blobs']} blobs, key-encryption key {manifest['kek']}) written to {args.out}"
    )
    if manifest["kek"] == "included":
        print("this file contains the key-encryption key: anyone who has it can read every secret. Protect it.")
    return 0


def backup(data_dir: Path, url: str, out: Path, *, with_kek: bool) -> dict[str, Any]:
    """Write the archive (atomically: a partial file never has the final name). Returns its manifest."""
    db = Database(url)
    if db.dialect == "sqlite" and not Path(str(make_url(url).database)).exists():
        raise BackupError(f"no database at {make_url(url).database}: is --data-dir right?")
    try:
        revision = db.schema_revision()
        account = _account(db)
    finally:
        db.dispose()
    kek_state, kek_id = _kek(data_dir, with_kek)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "edgeward": __version__,
        "created": clock.now().isoformat(),
        "database": db.dialect,
        "revision": revision,
        "account": account,
        "kek": kek_state,
        "kek_id": kek_id,
        "blobs": 0,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle, _open(handle, out.name.endswith((".gz", ".tgz"))) as archive:
            if db.dialect == "sqlite":
                manifest["blobs"] = _sqlite_snapshot(data_dir, Path(str(make_url(url).database)), archive)
            else:
                _pg_dump(make_url(url), archive)
            if kek_state == "included":
                _add_file(archive, KEK_MEMBER, data_dir / "kek")
                if (data_dir / "credentials").exists():
                    _add_file(archive, CREDENTIALS_MEMBER, data_dir / "credentials")
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _open(handle: IO[bytes], compress: bool) -> tarfile.TarFile:
    return tarfile.open(fileobj=handle, mode="w:gz") if compress else tarfile.open(fileobj=handle, mode="w")


def _account(db: Database) -> str:
    try:
        with db.read() as conn:
            record = accounts.get_account(conn)
    except Exception as exc:
        raise BackupError(f"cannot read the database ({type(exc).__name__}): is it an edgeward database?") from None
    if record is None:
        raise BackupError("the database has no account yet: nothing to back up")
    return record.account_id


def _kek(data_dir: Path, with_kek: bool) -> tuple[str, str | None]:
    """Whether the archive carries the key (`included`, `omitted`, or `external`: EDGEWARD_KEK) and its id."""
    from_env = SecretBox.from_env()
    if from_env is not None:
        return "external", from_env.key_id
    path = data_dir / "kek"
    if not path.exists():
        raise BackupError(f"no key-encryption key at {path} and {ENV_VAR} is not set")
    key_id = SecretBox.load_or_create(path).key_id
    return ("included" if with_kek else "omitted"), key_id


# -- SQLite --------------------------------------------------------------------------------------------


def _sqlite_snapshot(data_dir: Path, db_file: Path, archive: tarfile.TarFile) -> int:
    """The database and the blobs, frozen together under the write lock; returns the number of blobs."""
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=data_dir) as scratch:
        copy, linked = Path(scratch) / DEFAULT_FILENAME, Path(scratch) / "blobs"
        with WriteLock(db_file, LOCK_TIMEOUT).held():
            _sqlite_copy(db_file, copy)
            count = _link_blobs(data_dir / "blobs", linked)
        archive.add(copy, SQLITE_MEMBER, recursive=False)
        if count:
            archive.add(linked, "blobs")
    return count


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while other connections read and write."""
    src = sqlite3.connect(source, timeout=LOCK_TIMEOUT)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _link_blobs(root: Path, target: Path) -> int:
    """Hard links (no bytes copied, so the lock is held briefly) to every finished blob; uploads in progress
    (`tmp/`) belong to no row yet and are left out."""
    count = 0
    if not root.is_dir():
        return 0
    for directory in root.iterdir():
        if not directory.is_dir() or directory.name == "tmp":
            continue
        (target / directory.name).mkdir(parents=True, exist_ok=True)
        for entry in os.scandir(directory):
            if entry.is_file():
                try:
                    os.link(entry.path, target / directory.name / entry.name)
                except OSError:  # a file system without hard links: copy, still under the lock
                    shutil.copy2(entry.path, target / directory.name / entry.name)
                count += 1
    return count


# -- PostgreSQL ----------------------------------------------------------------------------------------


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the PostgreSQL tools, and the environment carrying the password (kept off
    the command line, where other users of the machine could read it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (same major version as the server)")
    return found


def _pg_dump(url: URL, archive: tarfile.TarFile) -> None:
    uri, env = libpq(url)
    with _scratch_file() as dump:
        command = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", uri]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        archive.add(dump, PGDUMP_MEMBER, recursive=False)


@contextmanager
def _scratch_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="edgeward-backup-") as scratch:
        yield Path(scratch) / "dump"


# -- archive members ---------------------------------------------------------------------------------


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> None:
    _add_bytes(archive, name, path.read_bytes())


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(clock.now().timestamp())
    archive.addfile(info, io.BytesIO(data))
