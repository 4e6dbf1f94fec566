"""`edgeward kek rotate`: a new key-encryption key (KEK), and every secret stored in the database re-sealed
under it, so the old key opens nothing any more.

Stop every edgeward node using the database first (a running server keeps using the key it started with),
and start them again afterwards with the new key.

With the key file (the default, `<data-dir>/kek`): the new key is written to `<data-dir>/kek.next` first;
then, in one transaction, every sealed secret is re-sealed under it and the database's record of the key id
changes; then `kek.next` replaces `kek`. Interrupted anywhere, the command can be run again and finishes
the job, and `edgeward serve` refuses to start while `kek.next` exists. With `EDGEWARD_KEK`: give the new key
in `EDGEWARD_KEK_NEW` (base64 of 32 random bytes, e.g. `openssl rand -base64 32`); afterwards set
`EDGEWARD_KEK` to it on every node. Backups made before a rotation still need the old key.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeward.cli.backup import database_url, where_arguments
from edgeward.server.bootstrap import KEK_SETTING, next_key_path
from edgeward.storage.database import Database
from edgeward.storage.errors import StorageError
from edgeward.storage.repos import settings
from edgeward.storage.reseal import reseal
from edgeward.storage.secrets import (
    ENV_VAR,
    SecretBox,
    create_key_file,
    kek_from_env,
    read_key_file,
    replace_key_file,
)

NEW_ENV_VAR = "EDGEWARD_KEK_NEW"


class RotationError(Exception):
    """What the operator must fix; printed without a stack trace."""


@dataclass(frozen=True)
class Keys:
    old: bytes
    new: bytes
    next_file: Path | None  # the new key's file, to put in place of the key file at the end (key-file mode)
    key_file: Path | None


def add_parser(commands: Any) -> None:
    kek = commands.add_parser("kek", help="the key-encryption key that seals stored secrets")
    actions = kek.add_subparsers(dest="kek_command", required=True)
    rotate = actions.add_parser(
        "rotate",
        help="make a new key-encryption key and re-seal every stored secret under it (servers stopped)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    where_arguments(rotate)
    rotate.set_defaults(run=run_rotate)


def run_rotate(args: argparse.Namespace) -> int:
    try:
        keys = _keys(args.data_dir)
        old_id, new_id, counts = rotate(database_url(args), keys)
    except (RotationError, StorageError, OSError) as exc:
        print(f"edgeward kek rotate: {exc}", file=sys.stderr)
        return 1
    resealed = ", ".join(f"{count} {name}" for name, count in counts.items())
    print(f"re-sealed under key-encryption key {new_id} (was {old_id}): {resealed}")
    if keys.key_file is not None:
        print(f"{keys.key_file} now holds the new key; back it up (backups made before now need the old one)")
    else:
        print(f"now set {ENV_VAR} to the value of {NEW_ENV_VAR} on every node, then start them")
    return 0


def rotate(url: str, keys: Keys) -> tuple[str, str, dict[str, int]]:
    """Re-seal everything and record the new key id in one transaction, then put the key file in place."""
    reader, writer = SecretBox(keys.old, also_reads=[keys.new]), SecretBox(keys.new)
    db = Database(url)
    try:
        with db.transaction() as conn:
            recorded = settings.get_setting(conn, KEK_SETTING)
            if recorded not in (None, reader.key_id, writer.key_id):
                raise RotationError(
                    f"the database's secrets are sealed with key id {recorded}, neither the current key "
                    f"({reader.key_id}) nor the new one ({writer.key_id}): is this the right data directory?"
                )
            counts = reseal(conn, reader, writer)
            settings.put_setting(conn, KEK_SETTING, writer.key_id)
    finally:
        db.dispose()
    if keys.next_file is not None and keys.key_file is not None:
        replace_key_file(keys.next_file, keys.key_file)
    return reader.key_id, writer.key_id, counts


def _keys(data_dir: Path) -> Keys:
    """The current and the new key: from the environment, or from the key file and `kek.next` (made now
    unless an interrupted rotation left one)."""
    from_env = kek_from_env()
    if from_env is not None:
        new = kek_from_env(name=NEW_ENV_VAR)
        if new is None:
            raise RotationError(f"the key comes from {ENV_VAR}: put the new one in {NEW_ENV_VAR} and run again")
        return _checked(Keys(from_env, new, None, None))
    key_file, next_file = data_dir / "kek", next_key_path(data_dir / "kek")
    if not key_file.is_file():
        raise RotationError(f"no key file {key_file} (and {ENV_VAR} is not set): is this the data directory?")
    new = read_key_file(next_file) if next_file.exists() else create_key_file(next_file)
    return _checked(Keys(read_key_file(key_file), new, next_file, key_file))


def _checked(keys: Keys) -> Keys:
    if keys.old == keys.new:
        raise RotationError("the new key is the current one")
    return keys
