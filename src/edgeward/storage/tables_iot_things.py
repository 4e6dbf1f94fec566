"""IoT things, thing types, static thing groups, and the principals attached to things.

Names are unique per account and case-sensitive, as in IoT; they sort in byte order (`NAME_KEY`) so listings
paginate alike on both databases. Ids (`thing_id`, `thing_type_id`, `thing_group_id`) are UUIDs; each ARN is
stored as created.

What the database keeps true under concurrency:
- a thing's type exists (RESTRICT: a thing type with things cannot be deleted);
- a thing with attached principals cannot be deleted (RESTRICT): IoT refuses with InvalidRequest;
- a thing group with child groups cannot be deleted (the parent key, checked at statement end so a wipe of
  the whole table still works);
- deleting a thing or a group removes its memberships (CASCADE), as IoT does;
- `UpdateThing`/`UpdateThingGroup` with `expectedVersion` compare and bump `version` in one UPDATE.

Thing attributes live in their own table, indexed by (name, value), so `ListThings` filters in SQL.
Principals (certificate ARNs and others) are text: certificates are another area's rows.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from edgeward.storage.tables import ACCOUNT_ID, NAME_KEY, metadata
from edgeward.storage.types import JsonText, UtcDateTime

THING_PRINCIPAL_TYPES = ("EXCLUSIVE_THING", "NON_EXCLUSIVE_THING")

iot_thing_types = Table(
    "iot_thing_types",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("thing_type_id", Text, nullable=False),
    Column("arn", Text, nullable=False),
    # thingTypeProperties as given (description, searchableAttributes, mqtt5Configuration).
    Column("properties", JsonText, nullable=False),
    Column("deprecated", Boolean, nullable=False),
    Column("deprecated_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("tags", JsonText, nullable=False),
    UniqueConstraint("account_id", "name"),
    UniqueConstraint("thing_type_id"),
    sqlite_autoincrement=True,
)

iot_things = Table(
    "iot_things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("thing_id", Text, nullable=False),
    Column("arn", Text, nullable=False),
    Column("type_id", Integer, ForeignKey("iot_thing_types.id", ondelete="RESTRICT"), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("tags", JsonText, nullable=False),
    UniqueConstraint("account_id", "name"),
    UniqueConstraint("thing_id"),
    CheckConstraint("version >= 1", name="version"),
    Index(None, "type_id"),
    sqlite_autoincrement=True,
)

iot_thing_attributes = Table(
    "iot_thing_attributes",
    metadata,
    Column("thing_id", Integer, ForeignKey("iot_things.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("value", NAME_KEY, nullable=False),
    PrimaryKeyConstraint("thing_id", "name"),
    Index(None, "name", "value"),
)

iot_thing_groups = Table(
    "iot_thing_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("thing_group_id", Text, nullable=False),
    Column("arn", Text, nullable=False),
    # No ON DELETE action: a parent with children cannot go, but a whole-table delete (dev reset) can.
    Column("parent_id", Integer, ForeignKey("iot_thing_groups.id"), nullable=True),
    Column("description", Text, nullable=True),
    Column("attributes", JsonText, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("tags", JsonText, nullable=False),
    UniqueConstraint("account_id", "name"),
    UniqueConstraint("thing_group_id"),
    CheckConstraint("version >= 1", name="version"),
    Index(None, "parent_id"),
    sqlite_autoincrement=True,
)

iot_thing_group_members = Table(
    "iot_thing_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("iot_thing_groups.id", ondelete="CASCADE"), nullable=False),
    Column("thing_id", Integer, ForeignKey("iot_things.id", ondelete="CASCADE"), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("group_id", "thing_id"),
    Index(None, "thing_id"),
)

iot_thing_principals = Table(
    "iot_thing_principals",
    metadata,
    Column("thing_id", Integer, ForeignKey("iot_things.id", ondelete="RESTRICT"), nullable=False),
    Column("principal", NAME_KEY, nullable=False),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("principal_type", Text, nullable=False),
    Column("attached_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("thing_id", "principal"),
    CheckConstraint("principal_type IN ('EXCLUSIVE_THING', 'NON_EXCLUSIVE_THING')", name="principal_type"),
    Index(None, "account_id", "principal"),
)
