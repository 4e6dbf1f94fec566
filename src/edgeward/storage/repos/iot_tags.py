"""Tags of the IoT resources that carry them, for TagResource / UntagResource / ListTagsForResource.

Each area keeps its resources' tags in its own row (a JSON `tags` column); this module reads and replaces
that column by resource kind, so tagging needs no table of its own. A change reads the row with a lock
(`FOR UPDATE` on PostgreSQL; SQLite runs one writer at a time), so two concurrent TagResource calls on one
resource merge instead of one losing the other's keys, and the tag limit holds for the merged set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select, update

from edgeward.storage.tables_iot_certs import iot_ca_certificates
from edgeward.storage.tables_iot_policies import iot_policies, iot_role_aliases
from edgeward.storage.tables_iot_things import iot_thing_groups, iot_thing_types


@dataclass(frozen=True, slots=True)
class _Kind:
    table: Table
    key: str  # the column the ARN's resource name is matched against
    lowercase: bool = False  # certificate ids are stored lowercased


# Keyed by the ARN resource type (`arn:aws:iot:<region>:<account>:<type>/<name>`).
_KINDS: dict[str, _Kind] = {
    "thinggroup": _Kind(iot_thing_groups, "name"),
    "thingtype": _Kind(iot_thing_types, "name"),
    "policy": _Kind(iot_policies, "name"),
    "rolealias": _Kind(iot_role_aliases, "alias"),
    "cacert": _Kind(iot_ca_certificates, "certificate_id", lowercase=True),
}

TAGGABLE_KINDS = frozenset(_KINDS)


@dataclass(frozen=True, slots=True)
class TaggedResource:
    arn: str
    tags: Mapping[str, str]


def get_tagged(conn: Connection, kind: str, account: str, name: str, *, lock: bool = False) -> TaggedResource | None:
    """The resource's ARN (as the area stored it) and tags; None when the account has no such resource."""
    spec = _KINDS[kind]
    stmt = select(spec.table.c.arn, spec.table.c.tags).where(*_identity(spec, account, name))
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    if row is None:
        return None
    return TaggedResource(arn=row.arn, tags=MappingProxyType(dict(row.tags or {})))


def set_tags(conn: Connection, kind: str, account: str, name: str, tags: Mapping[str, str]) -> bool:
    """Replace the resource's tags; False when it is gone."""
    spec = _KINDS[kind]
    stmt = update(spec.table).where(*_identity(spec, account, name)).values(tags=dict(tags))
    return bool(conn.execute(stmt).rowcount)


def _identity(spec: _Kind, account: str, name: str) -> tuple[ColumnElement[Any], ...]:
    key = name.lower() if spec.lowercase else name
    return (spec.table.c[spec.key] == key, spec.table.c.account_id == account)
