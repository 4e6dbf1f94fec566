"""`edgeward restore`: an `edgeward backup` archive back into a data directory and database; then the schema is
upgraded to this version's, so a backup of an older edgeward restores into a newer one.

Nothing changes until every check passed: the archive's format, a schema revision this version knows, the
kind of database (a SQLite backup restores into SQLite, a PostgreSQL one into PostgreSQL), an empty target
(or `--force`), and the key-encryption key that will be in force (EDGEWARD_KEK, the archive's, or the one in
the data directory) being the one the backup's secrets were sealed with. The server must be stopped.

SQLite: the database is unpacked beside the live one, checked (`PRAGMA integrity_check`) and moved into place
with a rename; the blobs directory is swapped the same way. PostgreSQL: the dump is turned into SQL by
`pg_restore` and run by `psql` in one transaction together with dropping the tables already there, so the
database holds either the old installation or the restored one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from edgeward.cli.backup import (
    CREDENTIALS_MEMBER,
    FORMAT,
    FORMAT_VERSION,
    KEK_MEMBER,
    MANIFEST,
    PGDUMP_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    database_url,
    libpq,
    pg_tool,
)
from edgeward.storage import schema
from edgeward.storage.database import DEFAULT_FILENAME, Database
from edgeward.storage.secrets import ENV_VAR, SecretBox
from edgeward.storage.tables import metadata

_BLOB_MEMBER = re.compile(r"^blobs/([0-9a-f]{2})/(\1[0-9a-f]{30})$")


def run_restore(args: argparse.Namespace) -> int:
    try:
        manifest, revision = restore(args.data_dir, database_url(args), args.source, force=args.force)
    except BackupError as exc:
        print(f"edgeward restore: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored account {manifest['account']} from {args.source} (backup of {manifest['created']}); "
        f"schema {manifest['revision']} upgraded to {revision}"
    )
    return 0


def restore(data_dir: Path, url: str, source: Path, *, force: bool) -> tuple[dict[str, Any], str | None]:
    """Restore `source`; returns its manifest and the schema revision the database is at now."""
    try:
        archive = tarfile.open(source, "r:*")  # noqa: SIM115 - closed by the `with` below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {source}: {exc}") from None
    with archive:
        manifest = _manifest(archive)
        db = Database(url)
        try:
            _check_target(db, data_dir, manifest, force)
            kek = _kek_member(archive, manifest)
            _check_kek(data_dir, manifest, kek)
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            if db.dialect == "sqlite":
                _restore_sqlite(archive, data_dir, Path(str(make_url(url).database)))
            else:
                _restore_postgres(archive, db)
            _restore_files(archive, data_dir, kek)
            db.dispose()
            db.migrate()
            return manifest, db.schema_revision()
        finally:
            db.dispose()


# -- checks, before anything changes -------------------------------------------------------------------


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        data = json.loads(_read(archive, MANIFEST))
    except (KeyError, ValueError):
        raise BackupError("not an edgeward backup (no readable manifest.json)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError("not an edgeward backup")
    if data.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"backup format version {data.get('format_version')} is not supported by this edgeward")
    try:
        ScriptDirectory.from_config(schema.alembic_config()).get_revision(str(data["revision"]))
    except Exception:
        raise BackupError(
            f"the backup's schema revision {data.get('revision')!r} is unknown here: restore it with the edgeward "
            f"version that wrote it ({data.get('edgeward')}) or a newer one"
        ) from None
    return data


def _check_target(db: Database, data_dir: Path, manifest: dict[str, Any], force: bool) -> None:
    if db.dialect != manifest["database"]:
        raise BackupError(
            f"this is a {manifest['database']} backup; it restores into {manifest['database']}, not {db.dialect}"
        )
    if force:
        return
    present = data_dir.joinpath(DEFAULT_FILENAME).exists() if db.dialect == "sqlite" else _has_schema(db)
    if present:
        raise BackupError("an installation is already there; stop its server and add --force to replace it")


def _has_schema(db: Database) -> bool:
    try:
        return db.schema_revision() is not None
    except Exception as exc:
        raise BackupError(f"cannot reach the database ({type(exc).__name__})") from None


def _kek_member(archive: tarfile.TarFile, manifest: dict[str, Any]) -> bytes | None:
    if manifest["kek"] != "included":
        return None
    try:
        return _read(archive, KEK_MEMBER)
    except KeyError:
        raise BackupError("the manifest says the key-encryption key is included, but it is missing") from None


def _check_kek(data_dir: Path, manifest: dict[str, Any], kek: bytes | None) -> None:
    """The key the server will load after the restore must be the one the backup's secrets need."""
    from_env = SecretBox.from_env()
    if from_env is not None:
        effective, where = from_env, ENV_VAR
    elif kek is not None:
        effective, where = _box_from_bytes(kek), "the backup's key"
    elif (data_dir / "kek").exists():
        effective, where = SecretBox.load_or_create(data_dir / "kek"), str(data_dir / "kek")
    else:
        raise BackupError(
            "the backup holds no key-encryption key: put the installation's key at "
            f"{data_dir / 'kek'} (mode 0600) or set {ENV_VAR}"
        )
    if effective.key_id != manifest["kek_id"]:
        raise BackupError(
            f"the backup's secrets are sealed with key-encryption key id {manifest['kek_id']}, but {where} has id "
            f"{effective.key_id}"
        )


def _box_from_bytes(kek: bytes) -> SecretBox:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "kek"
        _write_private(path, kek)
        return SecretBox.load_or_create(path)


# -- SQLite --------------------------------------------------------------------------------------------


def _restore_sqlite(archive: tarfile.TarFile, data_dir: Path, db_file: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as scratch:
        staged = Path(scratch) / DEFAULT_FILENAME
        with open(staged, "wb") as handle:
            _copy_member(archive, SQLITE_MEMBER, handle)
        _integrity_check(staged)
        blobs = Path(scratch) / "blobs"
        _unpack_blobs(archive, blobs)
        for suffix in ("-wal", "-shm"):  # the old database's journal must not be applied to the new one
            db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
        os.replace(staged, db_file)
        live = data_dir / "blobs"
        if live.exists():
            live.rename(Path(scratch) / "old-blobs")
        blobs.rename(live)


def _integrity_check(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the backup's database is damaged: {exc}") from None
    finally:
        conn.close()
    if result is None or result[0] != "ok":
        raise BackupError(f"the backup's database is damaged: {result}")


def _unpack_blobs(archive: tarfile.TarFile, target: Path) -> None:
    """Blob files only, under names this code builds itself: an archive cannot write anywhere else."""
    (target / "tmp").mkdir(parents=True, mode=0o700)
    for member in archive.getmembers():
        match = _BLOB_MEMBER.match(member.name)
        if match is None or not member.isfile():
            continue
        folder = target / match.group(1)
        folder.mkdir(exist_ok=True)
        with open(folder / match.group(2), "xb") as handle:
            _copy_member(archive, member.name, handle)


# -- PostgreSQL ----------------------------------------------------------------------------------------


def _restore_postgres(archive: tarfile.TarFile, db: Database) -> None:
    uri, env = libpq(make_url(db.url))
    with tempfile.TemporaryDirectory(prefix="edgeward-restore-") as scratch:
        dump, script, prelude = Path(scratch) / "dump", Path(scratch) / "restore.sql", Path(scratch) / "drop.sql"
        with open(dump, "wb") as handle:
            _copy_member(archive, PGDUMP_MEMBER, handle)
        _run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(dump)], env)
        tables = [*(table.name for table in metadata.sorted_tables), "alembic_version"]
        prelude.write_text("".join(f'DROP TABLE IF EXISTS "{name}" CASCADE;\n' for name in tables))
        psql = [pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", uri]
        db.dispose()  # no connection of ours may hold a lock the restore waits for
        _run([*psql, "-f", str(prelude), "-f", str(script)], env)


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


# -- files ---------------------------------------------------------------------------------------------


def _restore_files(archive: tarfile.TarFile, data_dir: Path, kek: bytes | None) -> None:
    if kek is not None:
        _write_private(data_dir / "kek", kek)
    try:
        credentials = _read(archive, CREDENTIALS_MEMBER)
    except KeyError:
        return
    _write_private(data_dir / "credentials", credentials)


def _write_private(path: Path, data: bytes) -> None:
    """Mode 0600 from the first byte, replaced atomically."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _read(archive: tarfile.TarFile, name: str) -> bytes:
    extracted = archive.extractfile(name)  # KeyError when absent
    if extracted is None:
        raise KeyError(name)
    with extracted:
        return extracted.read()


def _copy_member(archive: tarfile.TarFile, name: str, handle: IO[bytes]) -> None:
    try:
        extracted = archive.extractfile(name)
    except KeyError:
        raise BackupError(f"the backup has no {name}") from None
    if extracted is None:
        raise BackupError(f"{name} in the backup is not a file")
    with extracted:
        shutil.copyfileobj(extracted, handle, 1024 * 1024)
