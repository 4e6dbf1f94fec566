"""edgeward's certificate authorities (root and issuing CA, keys sealed).

One row per kind: the primary key on `kind` lets the database, not Python, decide which of two nodes starting
at once for the first time creates the installation's CA. The private key is a SecretBox token bound to
`pki-authority:<kind>`, so it cannot be swapped between rows.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Table, Text

from edgeward.storage.tables import metadata
from edgeward.storage.types import UtcDateTime

pki_authorities = Table(
    "pki_authorities",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("certificate_pem", Text, nullable=False),
    Column("key_ciphertext", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('root', 'issuing')", name="kind"),
)
