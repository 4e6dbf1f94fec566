"""The authorization decision log (owned by the decision-log work): bounded, written in batches."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, Table, Text

from edgeward.storage.tables import metadata
from edgeward.storage.types import UtcDateTime

authz_decisions = Table(
    "authz_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("principal_arn", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("decided_by", Text, nullable=True),
    Column("statement", Text, nullable=True),
    Column("reason", Text, nullable=False),
    Index(None, "at"),
    Index(None, "principal_arn", "at"),
    sqlite_autoincrement=True,
)
