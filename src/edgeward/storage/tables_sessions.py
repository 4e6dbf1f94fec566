"""STS temporary credentials (owned by the STS work).

The secret is sealed by the SecretBox like long-term secrets; the session token is stored only as its SHA-256.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, Table, Text

from edgeward.storage.tables import ACCOUNT_ID, metadata
from edgeward.storage.types import JsonText, UtcDateTime

sts_sessions = Table(
    "sts_sessions",
    metadata,
    Column("access_key_id", Text, primary_key=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("secret_ciphertext", Text, nullable=False),
    Column("token_sha256", Text, nullable=False),
    Column("role_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    Column("session_name", Text, nullable=True),
    Column("source_identity", Text, nullable=True),
    Column("session_policy", Text, nullable=True),
    Column("session_policy_arns", JsonText, nullable=False),
    Column("tags", JsonText, nullable=False),
    Column("transitive_tag_keys", JsonText, nullable=False),
    Column("context", JsonText, nullable=False),
    Column("mfa", Boolean, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('assumed-role', 'session-token', 'federated-user')", name="kind"),
    Index(None, "expires_at"),
)
