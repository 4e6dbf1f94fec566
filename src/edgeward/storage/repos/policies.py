"""Customer managed policies and their versions.

A policy keeps at most five versions; the database holds that limit (each version takes a slot 1..5 under a
unique key), so concurrent CreatePolicyVersion calls cannot exceed it. Version numbers (`v1`, `v2`, ...)
come from the policy row's `next_version` counter, bumped with an UPDATE that also serializes writers of
the same policy. The default version is `default_version_id` on the policy and `is_default` on the version
row; both change together in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    RowMapping,
    Select,
    Text,
    and_,
    bindparam,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from edgeward.core import arn as arns
from edgeward.core import clock, ids
from edgeward.storage.errors import AlreadyExists, NotFound, QuotaExceeded
from edgeward.storage.integrity import violation
from edgeward.storage.repos.users import name_key
from edgeward.storage.tables import iam_policy_attachments as attachments
from edgeward.storage.tables_entities import iam_group_members, iam_groups
from edgeward.storage.tables_policies import iam_inline_policies as inline
from edgeward.storage.tables_policies import iam_managed_policies as policies
from edgeward.storage.tables_policies import iam_policy_versions as versions

POLICY_ID_PREFIX = "ANPA"
MAX_VERSIONS = 5
SLOTS = tuple(range(1, MAX_VERSIONS + 1))


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    id: int
    account: str
    name: str
    path: str
    unique_id: str
    arn: str
    description: str | None
    default_version_id: str
    created_at: datetime
    updated_at: datetime
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class VersionRecord:
    version_id: str
    document: str
    is_default: bool
    created_at: datetime


def policy_arn(account: str, path: str, name: str) -> str:
    return arns.iam_entity(account, "policy", path, name)


def create_policy(
    conn: Connection,
    account: str,
    name: str,
    path: str,
    document: str,
    *,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> PolicyRecord:
    """Insert a policy and its version `v1` (the default); AlreadyExists when the name is taken (any case)."""
    created_at = now or clock.now()
    record = PolicyRecord(
        id=0,
        account=account,
        name=name,
        path=path,
        unique_id=ids.unique_id(POLICY_ID_PREFIX),
        arn=policy_arn(account, path, name),
        description=description,
        default_version_id="v1",
        created_at=created_at,
        updated_at=created_at,
        tags=MappingProxyType(dict(tags or {})),
    )
    stmt = insert(policies).values(
        account_id=account,
        name=name,
        name_lower=name_key(name),
        path=path,
        unique_id=record.unique_id,
        arn=record.arn,
        description=description,
        default_version_id="v1",
        next_version=2,
        created_at=created_at,
        updated_at=created_at,
        tags=dict(record.tags),
    )
    try:
        with conn.begin_nested():
            policy_id = conn.execute(stmt.returning(policies.c.id)).scalar_one()
    except IntegrityError as exc:
        found = violation(exc)
        if found.is_unique(policies, "account_id", "name_lower") or found.is_unique(policies, "arn"):
            raise AlreadyExists(f"A policy called {name} already exists.") from None
        raise
    conn.execute(
        insert(versions).values(
            policy_id=policy_id, version_id="v1", slot=1, document=document, is_default=True, created_at=created_at
        )
    )
    return replace(record, id=policy_id)


def get_policy(conn: Connection, account: str, arn: str, *, lock: bool = False) -> PolicyRecord | None:
    """The customer managed policy of `account` with exactly this ARN.

    `lock=True` takes the row lock (PostgreSQL `FOR UPDATE`; SQLite write transactions are serial anyway),
    so attachments, deletion and version changes of one policy serialize.
    """
    stmt = select(policies).where(policies.c.account_id == account, policies.c.arn == arn)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def list_policies(conn: Connection, account: str) -> list[PolicyRecord]:
    """Every customer managed policy of the account, by name (case-insensitively)."""
    stmt = select(policies).where(policies.c.account_id == account).order_by(policies.c.name_lower)
    return [_record(row) for row in conn.execute(stmt).mappings()]


def delete_policy(conn: Connection, policy: PolicyRecord) -> None:
    """Delete the policy and its versions; NotFound when it is already gone."""
    conn.execute(versions.delete().where(versions.c.policy_id == policy.id))
    if conn.execute(policies.delete().where(policies.c.id == policy.id)).rowcount == 0:
        raise NotFound(f"Policy {policy.arn} was not found.")


def set_tags(conn: Connection, policy: PolicyRecord, tags: Mapping[str, str]) -> None:
    """Replace the tags (read the policy with `lock=True` to change them safely)."""
    conn.execute(update(policies).where(policies.c.id == policy.id).values(tags=dict(tags)))


# -- versions ----------------------------------------------------------------------------------------


def list_versions(conn: Connection, policy: PolicyRecord) -> list[VersionRecord]:
    """The policy's versions, newest first."""
    stmt = select(versions).where(versions.c.policy_id == policy.id)
    found = [_version(row) for row in conn.execute(stmt).mappings()]
    return sorted(found, key=lambda v: version_number(v.version_id), reverse=True)


def get_version(conn: Connection, policy: PolicyRecord, version_id: str) -> VersionRecord | None:
    stmt = select(versions).where(versions.c.policy_id == policy.id, versions.c.version_id == version_id)
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _version(row)


def add_version(
    conn: Connection, policy: PolicyRecord, document: str, *, set_default: bool, now: datetime | None = None
) -> VersionRecord:
    """A new version in a free slot; QuotaExceeded when the policy already has five, NotFound when it is gone.

    The policy's row lock is taken first, so writers of one policy take turns and a refused attempt uses up
    no version number; the unique (policy, slot) key backs the limit up whatever happens.
    """
    created_at = now or clock.now()
    number = conn.execute(
        select(policies.c.next_version).where(policies.c.id == policy.id).with_for_update()
    ).scalar_one_or_none()
    if number is None:
        raise NotFound(f"Policy {policy.arn} was not found.")
    used = set(conn.execute(select(versions.c.slot).where(versions.c.policy_id == policy.id)).scalars())
    free = [slot for slot in SLOTS if slot not in used]
    if not free:
        raise QuotaExceeded(f"Policy {policy.arn} already has {MAX_VERSIONS} versions.")
    conn.execute(
        update(policies)
        .where(policies.c.id == policy.id)
        .values(next_version=policies.c.next_version + 1, updated_at=created_at)
    )
    version_id = f"v{number}"
    for slot in free:
        if _insert_version(conn, policy.id, version_id, slot, document, created_at):
            if set_default:
                set_default_version(conn, policy, version_id, now=created_at)
            return VersionRecord(version_id, document, set_default, created_at)
    raise QuotaExceeded(f"Policy {policy.arn} already has {MAX_VERSIONS} versions.")


def _insert_version(
    conn: Connection, policy_id: int, version_id: str, slot: int, document: str, created_at: datetime
) -> bool:
    """False when the slot was taken meanwhile (the savepoint keeps a PostgreSQL transaction usable)."""
    stmt = insert(versions).values(
        policy_id=policy_id,
        version_id=version_id,
        slot=slot,
        document=document,
        is_default=False,
        created_at=created_at,
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError as exc:
        if violation(exc).is_unique(versions, "policy_id", "slot"):
            return False
        raise
    return True


def set_default_version(
    conn: Connection, policy: PolicyRecord, version_id: str, *, now: datetime | None = None
) -> bool:
    """Make `version_id` the default; False when the policy has no such version."""
    exists = conn.execute(
        update(versions)
        .where(versions.c.policy_id == policy.id, versions.c.version_id == version_id)
        .values(is_default=True)
    ).rowcount
    if not exists:
        return False
    conn.execute(
        update(versions)
        .where(versions.c.policy_id == policy.id, versions.c.version_id != version_id)
        .values(is_default=False)
    )
    values: dict[str, object] = {"default_version_id": version_id}
    if now is not None:
        values["updated_at"] = now
    conn.execute(update(policies).where(policies.c.id == policy.id).values(**values))
    return True


def delete_version(conn: Connection, policy: PolicyRecord, version_id: str) -> bool:
    """Delete a version that is not the default; False when there is no such non-default version."""
    stmt = versions.delete().where(
        versions.c.policy_id == policy.id, versions.c.version_id == version_id, versions.c.is_default.is_(False)
    )
    return bool(conn.execute(stmt).rowcount)


def version_number(version_id: str) -> int:
    digits = version_id[1:].split(".", 1)[0]
    return int(digits) if digits.isdigit() else 0


# -- documents for evaluation -------------------------------------------------------------------------


def default_document(conn: Connection, account: str, arn: str) -> str | None:
    """The default version's document of a customer managed policy of `account`, or None."""
    return default_documents(conn, account, (arn,)).get(arn)


def default_documents(conn: Connection, account: str, arns_: Collection[str]) -> dict[str, str]:
    """ARN -> default document for those of `arns_` that are customer managed policies of `account`."""
    if not arns_:
        return {}
    stmt = (
        select(policies.c.arn, versions.c.document)
        .select_from(policies.join(versions, _default_version()))
        .where(policies.c.account_id == account, policies.c.arn.in_(list(arns_)))
    )
    return {row[0]: row[1] for row in conn.execute(stmt)}


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One policy that applies to a principal, as the authorizer loads it."""

    source: str  # 'inline' | 'attached' | 'managed' (a boundary or session policy asked for by ARN)
    owner_type: str  # 'user' | 'group' | 'role'; '' for 'managed'
    owner_name: str  # the group's name for a group's policies, '' otherwise
    name: str  # the inline policy's name, or the managed policy's ARN
    document: str | None  # None: an AWS managed policy (its document is in code) or a dangling ARN


def principal_documents(
    conn: Connection,
    owner_type: str,
    owner_id: int,
    *,
    with_groups: bool,
    managed_arns: Collection[str] = (),
) -> list[StoredDocument]:
    """Everything the authorizer needs about one principal, in one query (UNION ALL).

    The owner's inline and attached policies; with `with_groups` (users) those of its groups too; and the
    default documents of the customer managed policies in `managed_arns` (permissions boundary, session
    policies). Attached customer managed policies come with their default version's document.
    """
    stmt = _principal_statement(with_groups, bool(managed_arns))
    parameters: dict[str, Any] = {"owner_type": owner_type, "owner_id": owner_id}
    if managed_arns:
        parameters["arns"] = list(managed_arns)
    rows: list[Any] = list(conn.execute(stmt, parameters))
    rows.sort(key=lambda row: (row[0], row[3], row[4]))
    return [StoredDocument(row[1], row[2], row[3], row[4], row[5]) for row in rows]


@cache
def _principal_statement(with_groups: bool, with_managed: bool) -> CompoundSelect[Any]:
    """Built once per shape: constructing the statement costs more than running it (the hot path)."""
    owner_type, owner_id = bindparam("owner_type", type_=Text), bindparam("owner_id", type_=Integer)
    parts: list[Select[tuple[int, str, str, str, str, str | None]]] = [
        _inline_part(0, inline.c.principal_type == owner_type, inline.c.principal_id == owner_id),
        _attached_part(1, attachments.c.principal_type == owner_type, attachments.c.principal_id == owner_id),
    ]
    if with_groups:
        parts.append(_group_inline_part(2, owner_id))
        parts.append(_group_attached_part(3, owner_id))
    if with_managed:
        parts.append(
            select(
                literal(4, Integer),
                literal("managed", Text),
                literal("", Text),
                literal("", Text),
                policies.c.arn,
                versions.c.document,
            )
            .select_from(policies.join(versions, _default_version()))
            .where(policies.c.arn.in_(bindparam("arns", expanding=True)))
        )
    return union_all(*parts)


def _inline_part(order: int, *where: ColumnElement[bool]) -> Select[tuple[int, str, str, str, str, str | None]]:
    return select(
        literal(order, Integer),
        literal("inline", Text),
        inline.c.principal_type,
        literal("", Text),
        inline.c.name,
        inline.c.document,
    ).where(*where)


def _attached_part(order: int, *where: ColumnElement[bool]) -> Select[tuple[int, str, str, str, str, str | None]]:
    return (
        select(
            literal(order, Integer),
            literal("attached", Text),
            attachments.c.principal_type,
            literal("", Text),
            attachments.c.policy_arn,
            versions.c.document,
        )
        .select_from(_attachments_with_documents())
        .where(*where)
    )


def _group_inline_part(order: int, user_id: BindParameter[int]) -> Select[tuple[int, str, str, str, str, str | None]]:
    joined = inline.join(
        iam_groups, and_(inline.c.principal_type == "group", inline.c.principal_id == iam_groups.c.id)
    ).join(iam_group_members, iam_group_members.c.group_id == iam_groups.c.id)
    return (
        select(
            literal(order, Integer),
            literal("inline", Text),
            literal("group", Text),
            iam_groups.c.name,
            inline.c.name,
            inline.c.document,
        )
        .select_from(joined)
        .where(iam_group_members.c.user_id == user_id)
    )


def _group_attached_part(order: int, user_id: BindParameter[int]) -> Select[tuple[int, str, str, str, str, str | None]]:
    joined = (
        _attachments_with_documents()
        .join(iam_groups, and_(attachments.c.principal_type == "group", attachments.c.principal_id == iam_groups.c.id))
        .join(iam_group_members, iam_group_members.c.group_id == iam_groups.c.id)
    )
    return (
        select(
            literal(order, Integer),
            literal("attached", Text),
            literal("group", Text),
            iam_groups.c.name,
            attachments.c.policy_arn,
            versions.c.document,
        )
        .select_from(joined)
        .where(iam_group_members.c.user_id == user_id)
    )


def _attachments_with_documents() -> Any:
    return attachments.outerjoin(policies, policies.c.arn == attachments.c.policy_arn).outerjoin(
        versions, _default_version()
    )


def _default_version() -> ColumnElement[bool]:
    return and_(versions.c.policy_id == policies.c.id, versions.c.version_id == policies.c.default_version_id)


def _record(row: RowMapping) -> PolicyRecord:
    return PolicyRecord(
        id=row["id"],
        account=row["account_id"],
        name=row["name"],
        path=row["path"],
        unique_id=row["unique_id"],
        arn=row["arn"],
        description=row["description"],
        default_version_id=row["default_version_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        tags=MappingProxyType(row["tags"] or {}),
    )


def _version(row: RowMapping) -> VersionRecord:
    return VersionRecord(
        version_id=row["version_id"],
        document=row["document"],
        is_default=bool(row["is_default"]),
        created_at=row["created_at"],
    )
