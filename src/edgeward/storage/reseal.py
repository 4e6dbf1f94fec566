"""Every secret sealed in the database, re-sealed under a new key-encryption key (`edgeward kek rotate`).

Four columns hold SecretBox tokens, each bound to its row by an AEAD context: IAM secret access keys, STS
session secrets, the CA's private keys, and DeepLens device keys not yet downloaded. `reseal` opens each with
the old key (or the new one: a rotation run again after an interruption finds rows already re-sealed) and
seals it again under the new key, in the caller's transaction, so a rotation changes every row or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, RowMapping, Table, select, update

from edgeward.storage.repos import access_keys, authorities, deeplens, sessions
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables import access_keys as access_keys_table
from edgeward.storage.tables_deeplens import deeplens_devices
from edgeward.storage.tables_pki import pki_authorities
from edgeward.storage.tables_sessions import sts_sessions


@dataclass(frozen=True)
class SealedColumn:
    name: str  # for the operator's summary
    table: Table
    key: Column[Any]  # the primary key
    column: Column[Any]  # the token
    context: Callable[[RowMapping], bytes]  # the row's AEAD context


SEALED_COLUMNS = (
    SealedColumn(
        "IAM secret access keys",
        access_keys_table,
        access_keys_table.c.access_key_id,
        access_keys_table.c.secret_ciphertext,
        lambda row: access_keys.secret_context(row["access_key_id"]),
    ),
    SealedColumn(
        "STS session secrets",
        sts_sessions,
        sts_sessions.c.access_key_id,
        sts_sessions.c.secret_ciphertext,
        lambda row: sessions.secret_context(row["access_key_id"]),
    ),
    SealedColumn(
        "certificate authority keys",
        pki_authorities,
        pki_authorities.c.kind,
        pki_authorities.c.key_ciphertext,
        lambda row: authorities.key_context(row["kind"]),
    ),
    SealedColumn(
        "DeepLens device keys awaiting download",
        deeplens_devices,
        deeplens_devices.c.id,
        deeplens_devices.c.private_key_ciphertext,
        lambda row: deeplens.key_context(row["account_id"], row["region"], row["name"], row["certificate_id"]),
    ),
)


def reseal(conn: Connection, reader: SecretBox, writer: SecretBox) -> dict[str, int]:
    """Re-seal every token that `reader` opens under `writer`'s key, in `conn`'s transaction; the number of
    rows per kind. Raises DecryptionError (and the caller rolls back) on a token `reader` cannot open."""
    return {sealed.name: _reseal_column(conn, sealed, reader, writer) for sealed in SEALED_COLUMNS}


def _reseal_column(conn: Connection, sealed: SealedColumn, reader: SecretBox, writer: SecretBox) -> int:
    table = sealed.table
    rows = conn.execute(select(table).where(sealed.column.is_not(None))).mappings().all()
    for row in rows:
        context = sealed.context(row)
        token = writer.encrypt(reader.decrypt(row[sealed.column.name], context), context)
        conn.execute(update(table).where(sealed.key == row[sealed.key.name]).values({sealed.column.name: token}))
    return len(rows)
