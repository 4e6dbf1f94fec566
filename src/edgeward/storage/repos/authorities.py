"""The installation's root and issuing CA: certificates in clear, private keys sealed by the SecretBox.

`save_authorities` inserts both rows or neither, and lets the primary key decide between two nodes creating
the CA at the same moment (the loser's rows are dropped; it then loads the winner's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from edgeward.core import clock
from edgeward.pki.authority import CertificateAuthority
from edgeward.pki.errors import PkiError
from edgeward.pki.pem import load_certificate
from edgeward.storage.errors import SecretError, StorageError
from edgeward.storage.fastpath import HotQuery
from edgeward.storage.secrets import SecretBox
from edgeward.storage.tables_pki import pki_authorities

ROOT = "root"
ISSUING = "issuing"
KINDS = (ROOT, ISSUING)


@dataclass(frozen=True)
class Authorities:
    root: CertificateAuthority
    issuing: CertificateAuthority

    def bundle_pem(self) -> str:
        """Root then issuing CA: what `ca.pem` holds, so `openssl verify -CAfile` needs no other file."""
        return self.root.certificate_pem() + self.issuing.certificate_pem()


@dataclass(frozen=True)
class SealedAuthority:
    """A row as stored: the key still sealed. `key_ciphertext` is unique per row written (random nonce)."""

    kind: str
    certificate_pem: str
    key_ciphertext: str
    created_at: datetime


def key_context(kind: str) -> bytes:
    return f"pki-authority:{kind}".encode("ascii")


def save_authorities(
    conn: Connection, box: SecretBox, root: CertificateAuthority, issuing: CertificateAuthority
) -> bool:
    """Store both authorities unless the installation already has them; True when these were stored."""
    now = clock.now()
    inserted = [_insert_if_absent(conn, box, kind, ca, now) for kind, ca in ((ROOT, root), (ISSUING, issuing))]
    if inserted[0] != inserted[1]:
        raise StorageError("the installation has only one of its two certificate authorities; refusing to mix CAs")
    return inserted[0]


def sealed_authorities(conn: Connection) -> dict[str, SealedAuthority]:
    """The stored rows by kind, keys not decrypted (cheap: for caches and for exporting certificates)."""
    rows = conn.execute(select(pki_authorities)).mappings()
    return {
        row["kind"]: SealedAuthority(row["kind"], row["certificate_pem"], row["key_ciphertext"], row["created_at"])
        for row in rows
    }


def sealed_authority(conn: Connection, kind: str) -> SealedAuthority | None:
    """One stored row by kind (a primary-key lookup, on every certificate issued: prebuilt)."""
    row = _BY_KIND.first(conn, {"kind": kind})
    return None if row is None else SealedAuthority(*row)


_BY_KIND = HotQuery(
    select(
        pki_authorities.c.kind,
        pki_authorities.c.certificate_pem,
        pki_authorities.c.key_ciphertext,
        pki_authorities.c.created_at,
    ).where(pki_authorities.c.kind == bindparam("kind")),
    typed=True,
)


def load_authorities(conn: Connection, box: SecretBox) -> Authorities | None:
    """Both authorities with their keys decrypted; None before the first start created them."""
    sealed = sealed_authorities(conn)
    return authorities_from(sealed, box)


def authorities_from(sealed: Mapping[str, SealedAuthority], box: SecretBox) -> Authorities | None:
    if not sealed:
        return None
    missing = [kind for kind in KINDS if kind not in sealed]
    if missing:
        raise StorageError(f"the {missing[0]} certificate authority is missing from the database")
    return Authorities(root=open_authority(box, sealed[ROOT]), issuing=open_authority(box, sealed[ISSUING]))


def open_authority(box: SecretBox, sealed: SealedAuthority) -> CertificateAuthority:
    """Decrypt and load one authority (a few hundred microseconds: cache the result)."""
    key_pem = box.decrypt(sealed.key_ciphertext, key_context(sealed.kind))
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SecretError(f"the {sealed.kind} certificate authority's key is neither RSA nor EC")
    try:
        certificate = load_certificate(sealed.certificate_pem)
    except PkiError as exc:
        raise StorageError(f"the {sealed.kind} certificate authority's certificate is damaged: {exc}") from None
    return CertificateAuthority(certificate, key)


def _insert_if_absent(conn: Connection, box: SecretBox, kind: str, ca: CertificateAuthority, now: datetime) -> bool:
    key_pem = ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    values = {
        "kind": kind,
        "certificate_pem": ca.certificate_pem(),
        "key_ciphertext": box.encrypt(key_pem, context=key_context(kind)),
        "created_at": now,
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # RETURNING rather than rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT through SQLAlchemy.
    statement = insert(pki_authorities).values(**values).on_conflict_do_nothing().returning(pki_authorities.c.kind)
    return conn.execute(statement).first() is not None
