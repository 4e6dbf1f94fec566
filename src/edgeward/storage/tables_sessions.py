"""STS temporary credentials (owned by the STS work).

The secret is sealed by the SecretBox like long-term secrets; the session token is stored only as its SHA-256.

A session belongs to a role (`assumed-role`) or to a user or the account root (`session-token`,
`federated-user`). Deleting the role or user deletes its sessions (CASCADE): their credentials stop working
at once, as in AWS, and no orphan rows wait for the expiry sweep. Role and user ids are never reused, so a
role re-created under the same name does not revive the old sessions.
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
    Column("role_id", Integer, ForeignKey("iam_roles.id", ondelete="CASCADE"), nullable=True),
    Column("user_id", Integer, ForeignKey("iam_users.id", ondelete="CASCADE"), nullable=True),
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
    CheckConstraint(
        "(kind = 'assumed-role' AND role_id IS NOT NULL AND user_id IS NULL) OR "
        "(kind <> 'assumed-role' AND role_id IS NULL)",
        name="subject",
    ),
    Index(None, "expires_at"),
    Index(None, "role_id"),
    Index(None, "user_id"),
)
