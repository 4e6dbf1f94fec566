"""IoT policies, their versions and targets; role aliases (owned by the IoT-policies work).

IoT names are case-sensitive (unlike IAM's), so they are unique as written. Limits hold in the database:
a policy's versions take slots 1..5 and a target's policies take slots 1..10, each under a unique key, so
concurrent requests cannot go past them. A policy that is still attached cannot be deleted (RESTRICT), even
when an AttachPolicy races the DeletePolicy.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)

from edgeward.storage.tables import ACCOUNT_ID, NAME_KEY, metadata
from edgeward.storage.types import JsonText, UtcDateTime

MAX_POLICY_VERSIONS = 5
MAX_POLICIES_PER_TARGET = 10

iot_policies = Table(
    "iot_policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("name", NAME_KEY, nullable=False),
    # As created: the region in it is the one the client used, which is what device policies name.
    Column("arn", Text, nullable=False),
    Column("default_version", Integer, nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("generation_id", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("tags", JsonText, nullable=False),
    UniqueConstraint("account_id", "name"),
    sqlite_autoincrement=True,
)

iot_policy_versions = Table(
    "iot_policy_versions",
    metadata,
    Column("policy_id", Integer, ForeignKey("iot_policies.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("slot", SmallInteger, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("policy_id", "version"),
    UniqueConstraint("policy_id", "slot"),
    CheckConstraint(f"slot BETWEEN 1 AND {MAX_POLICY_VERSIONS}", name="slot"),
)

# Targets are certificate or thing-group ARNs (rows of other areas, possibly not yet created there), so no
# foreign key on the target side: DeleteCertificate asks `target_policy_count` first.
iot_policy_targets = Table(
    "iot_policy_targets",
    metadata,
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("policy_id", Integer, ForeignKey("iot_policies.id", ondelete="RESTRICT"), nullable=False),
    Column("target_arn", Text, nullable=False),
    Column("slot", SmallInteger, nullable=False),
    Column("attached_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("policy_id", "target_arn"),
    UniqueConstraint("account_id", "target_arn", "slot"),
    CheckConstraint(f"slot BETWEEN 1 AND {MAX_POLICIES_PER_TARGET}", name="slot"),
)

iot_role_aliases = Table(
    "iot_role_aliases",
    metadata,
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("alias", NAME_KEY, nullable=False),
    Column("arn", Text, nullable=False),
    Column("role_arn", Text, nullable=False),
    Column("credential_duration_seconds", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_modified_at", UtcDateTime, nullable=False),
    Column("tags", JsonText, nullable=False),
    PrimaryKeyConstraint("account_id", "alias"),
    CheckConstraint("credential_duration_seconds BETWEEN 900 AND 43200", name="duration"),
)
