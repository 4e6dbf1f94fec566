"""The certificates the mTLS listener trusts as chain anchors, read from the database.

edgeward's root and issuing CAs, every ACTIVE registered CA, and every ACTIVE certificate registered without
a CA (trusted by exact match: the listener verifies with partial chains, so a leaf that is itself an anchor
verifies). The set decides only which handshakes succeed; whether a certificate may obtain credentials is
decided per request from its database row (`exchange`), so trimming the set is a courtesy, not the guard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from edgeward.storage.repos import authorities, iot_ca_certificates, iot_certificates
from edgeward.storage.secrets import SecretBox


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    """PEM texts in a stable order, and a fingerprint of the whole set (what tells that it changed)."""

    pems: tuple[str, ...]
    fingerprint: str

    @classmethod
    def of(cls, pems: Iterable[str]) -> TrustAnchors:
        unique = tuple(sorted({pem.strip() + "\n" for pem in pems if pem.strip()}))
        digest = hashlib.sha256("".join(unique).encode("ascii", "replace")).hexdigest()
        return cls(unique, digest)

    @property
    def bundle(self) -> str:
        return "".join(self.pems)


def edgeward_authorities(conn: Connection, box: SecretBox) -> list[str]:
    """edgeward's own root and issuing CA certificates (empty before the CA exists)."""
    loaded = authorities.load_authorities(conn, box)
    if loaded is None:
        return []
    return [loaded.root.certificate_pem(), loaded.issuing.certificate_pem()]


def registered_anchors(conn: Connection) -> list[str]:
    """ACTIVE registered CA certificates and ACTIVE certificates registered without a CA."""
    pems = [ca.certificate_pem for ca in iot_ca_certificates.active_ca_certificates(conn)]
    pems += [certificate.certificate_pem for certificate in iot_certificates.active_certificates_without_ca(conn)]
    return pems


def load_trust_anchors(conn: Connection, own: Iterable[str]) -> TrustAnchors:
    """The whole set: `own` (edgeward's CAs, loaded once) plus what is registered now."""
    return TrustAnchors.of([*own, *registered_anchors(conn)])
