"""Authorization bookkeeping: the decision log and the IAM generation counter.

`authz_decisions` is written in batches by a background flusher per process (`services.decisions`) and
pruned to a bounded size; ids are never reused (AUTOINCREMENT / a sequence), so "the newest N rows" is an
id range. `id` is 64-bit on PostgreSQL (a busy installation would outrun 2^31 in weeks); SQLite's rowid is
64-bit already and must stay `INTEGER PRIMARY KEY` to be one.

`iam_generation` holds a single row (id 1) whose `generation` every IAM write increments in its own
transaction; the per-process policy caches (`services.policy_cache`) poll it to drop compiled policies.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Index, Integer, SmallInteger, Table, Text

from edgeward.storage.tables import metadata
from edgeward.storage.types import UtcDateTime

DECISION_ID = BigInteger().with_variant(Integer(), "sqlite")

authz_decisions = Table(
    "authz_decisions",
    metadata,
    Column("id", DECISION_ID, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("principal_arn", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("allowed", Boolean, nullable=False),
    # identity | resource | trust | boundary | session: the type that granted, or that a denial names.
    Column("policy_type", Text, nullable=True),
    # The deciding policy (managed policy ARN, inline policy name) and statement (Sid, or `#<index>`).
    Column("policy_id", Text, nullable=True),
    Column("statement", Text, nullable=True),
    Column("reason", Text, nullable=False),
    Index(None, "at"),
    Index(None, "principal_arn", "at"),
    Index(None, "allowed", "at"),
    sqlite_autoincrement=True,
)

iam_generation = Table(
    "iam_generation",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
