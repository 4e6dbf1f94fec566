"""Web console sessions.

The cookie holds a random token; only its SHA-256 is stored, so the table cannot be replayed. A session
belongs to an IAM user (`user_id`) or to the account root (`user_id` NULL, signed in with a root access key);
deleting the user ends its sessions (CASCADE). `access_key_id` is set when the session was opened with an
access key: deactivating or deleting that key ends the session too.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text

from edgeward.storage.tables import ACCOUNT_ID, metadata
from edgeward.storage.types import UtcDateTime

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_sha256", Text, primary_key=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("user_id", Integer, ForeignKey("iam_users.id", ondelete="CASCADE"), nullable=True),
    Column("access_key_id", Text, nullable=True),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
    Index(None, "user_id"),
)
