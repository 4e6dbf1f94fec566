"""IAM groups, group membership, roles, login profiles and the password policy (owned by the IAM-entities work).

Conventions as in `tables.py`. Entities are unique case-insensitively per account (`name_lower`).
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, Table, Text, UniqueConstraint

from edgeward.storage.tables import ACCOUNT_ID, metadata, named_entity_columns
from edgeward.storage.types import JsonText, UtcDateTime

iam_groups = Table(
    "iam_groups",
    metadata,
    *named_entity_columns(),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_lower"),
    UniqueConstraint("unique_id"),
    sqlite_autoincrement=True,
)

# RESTRICT both ways: IAM refuses to delete a group with members or a user in groups (DeleteConflict).
iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("iam_groups.id", ondelete="RESTRICT"), primary_key=True),
    Column("user_id", Integer, ForeignKey("iam_users.id", ondelete="RESTRICT"), primary_key=True),
    Column("added_at", UtcDateTime, nullable=False),
    Index(None, "user_id"),  # ListGroupsForUser, and the authorizer's groups of the caller
)

iam_roles = Table(
    "iam_roles",
    metadata,
    *named_entity_columns(),
    Column("created_at", UtcDateTime, nullable=False),
    Column("description", Text, nullable=True),
    Column("max_session_duration", Integer, nullable=False),
    Column("trust_policy", Text, nullable=False),
    Column("permissions_boundary", Text, nullable=True),
    Column("tags", JsonText, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("last_used_region", Text, nullable=True),
    UniqueConstraint("account_id", "name_lower"),
    UniqueConstraint("unique_id"),
    CheckConstraint("max_session_duration BETWEEN 3600 AND 43200", name="max_session_duration"),
    sqlite_autoincrement=True,
)

iam_login_profiles = Table(
    "iam_login_profiles",
    metadata,
    Column("user_id", Integer, ForeignKey("iam_users.id", ondelete="RESTRICT"), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("password_reset_required", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
    # Hashes of earlier passwords, newest first, for the password policy's PasswordReusePrevention (at most 24).
    Column("password_history", JsonText, nullable=False),
)

iam_password_policies = Table(
    "iam_password_policies",
    metadata,
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), primary_key=True),
    Column("policy", JsonText, nullable=False),
)
