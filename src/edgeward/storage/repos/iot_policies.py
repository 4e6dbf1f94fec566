"""IoT policies, their versions, and the targets (certificates, thing groups) they are attached to.

Limits are the database's: versions take slots 1..5 and a target's policies slots 1..10 under unique keys.
Writers of one policy take its row lock first (`get_policy(..., lock=True)`), so version numbers are handed
out in turn and DeletePolicy sees every attachment committed before it; the RESTRICT key from targets to
policies backs that up.

For the credentials provider and the certificate area: `policies_for_targets` (the documents that govern a
certificate and its thing's groups) and `target_policy_count` (DeleteCertificate refuses while policies
are attached).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.core import clock
from edgeward.storage.errors import AlreadyExists, InUse, NotFound, QuotaExceeded
from edgeward.storage.integrity import Kind, violation
from edgeward.storage.tables_iot_policies import (
    MAX_POLICIES_PER_TARGET,
    MAX_POLICY_VERSIONS,
)
from edgeward.storage.tables_iot_policies import iot_policies as policies
from edgeward.storage.tables_iot_policies import iot_policy_targets as targets
from edgeward.storage.tables_iot_policies import iot_policy_versions as versions


@dataclass(frozen=True, slots=True)
class IotPolicyRecord:
    """A policy as evaluation needs it: its name, ARN and default version's document."""

    name: str
    arn: str
    document: str


@dataclass(frozen=True, slots=True)
class IotPolicy:
    id: int
    account: str
    name: str
    arn: str
    default_version: int
    generation_id: str
    created_at: datetime
    updated_at: datetime
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class IotPolicyVersion:
    version: int
    document: str
    created_at: datetime


def create_policy(
    conn: Connection,
    *,
    account: str,
    name: str,
    arn: str,
    document: str,
    tags: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> IotPolicy:
    """Insert a policy and its version 1 (the default); AlreadyExists when the account has one of that name."""
    created_at = now or clock.now()
    values: dict[str, Any] = {
        "account_id": account,
        "name": name,
        "arn": arn,
        "default_version": 1,
        "next_version": 2,
        "generation_id": _generation(),
        "created_at": created_at,
        "updated_at": created_at,
        "tags": dict(tags or {}),
    }
    try:
        with conn.begin_nested():
            policy_id = conn.execute(insert(policies).values(values).returning(policies.c.id)).scalar_one()
    except IntegrityError as exc:
        if violation(exc).is_unique(policies, "account_id", "name"):
            raise AlreadyExists(f"Policy {name} already exists.") from None
        raise
    conn.execute(
        insert(versions).values(policy_id=policy_id, version=1, slot=1, document=document, created_at=created_at)
    )
    return _policy({**values, "id": policy_id})


def get_policy(conn: Connection, account: str, name: str, *, lock: bool = False) -> IotPolicy | None:
    """The policy of that exact name; `lock=True` takes its row lock (PostgreSQL `FOR UPDATE`)."""
    stmt = select(policies).where(policies.c.account_id == account, policies.c.name == name)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _policy(row)


def list_policies(
    conn: Connection, account: str, *, after: str | None, limit: int, ascending: bool = True
) -> list[IotPolicy]:
    """Up to `limit` policies by name (byte order), starting after the name `after`."""
    stmt = select(policies).where(policies.c.account_id == account)
    if after is not None:
        stmt = stmt.where(policies.c.name > after if ascending else policies.c.name < after)
    order = policies.c.name.asc() if ascending else policies.c.name.desc()
    return [_policy(row) for row in conn.execute(stmt.order_by(order).limit(limit)).mappings()]


def delete_policy(conn: Connection, policy: IotPolicy) -> None:
    """Delete the policy and its versions; InUse while it is attached, NotFound when it is gone."""
    try:
        with conn.begin_nested():
            deleted = conn.execute(policies.delete().where(policies.c.id == policy.id)).rowcount
    except IntegrityError as exc:
        if violation(exc).kind is Kind.FOREIGN_KEY:
            raise InUse(f"Policy {policy.name} is attached.") from None
        raise
    if not deleted:
        raise NotFound(f"Policy {policy.name} was not found.")


# -- versions ----------------------------------------------------------------------------------------


def list_versions(conn: Connection, policy: IotPolicy) -> list[IotPolicyVersion]:
    """The policy's versions, newest first."""
    stmt = select(versions).where(versions.c.policy_id == policy.id).order_by(versions.c.version.desc())
    return [_version(row) for row in conn.execute(stmt).mappings()]


def get_version(conn: Connection, policy: IotPolicy, version: int) -> IotPolicyVersion | None:
    stmt = select(versions).where(versions.c.policy_id == policy.id, versions.c.version == version)
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _version(row)


def add_version(
    conn: Connection, policy: IotPolicy, document: str, *, set_default: bool, now: datetime | None = None
) -> IotPolicyVersion:
    """A new version in a free slot (made the default if asked); QuotaExceeded at five, NotFound when gone.

    Takes the policy's row lock first, so a refused attempt uses up no version number; the unique
    (policy, slot) key holds the limit whatever happens.
    """
    created_at = now or clock.now()
    number = conn.execute(
        select(policies.c.next_version).where(policies.c.id == policy.id).with_for_update()
    ).scalar_one_or_none()
    if number is None:
        raise NotFound(f"Policy {policy.name} was not found.")
    used = set(conn.execute(select(versions.c.slot).where(versions.c.policy_id == policy.id)).scalars())
    for slot in (s for s in range(1, MAX_POLICY_VERSIONS + 1) if s not in used):
        if _insert_version(conn, policy.id, number, slot, document, created_at):
            changes: dict[str, Any] = {"next_version": number + 1, "updated_at": created_at}
            if set_default:
                changes.update(default_version=number, generation_id=_generation())
            conn.execute(update(policies).where(policies.c.id == policy.id).values(changes))
            return IotPolicyVersion(number, document, created_at)
    raise QuotaExceeded(f"Policy {policy.name} already has {MAX_POLICY_VERSIONS} versions.")


def _insert_version(
    conn: Connection, policy_id: int, number: int, slot: int, document: str, created_at: datetime
) -> bool:
    """False when the slot was taken meanwhile (the savepoint keeps a PostgreSQL transaction usable)."""
    stmt = insert(versions).values(
        policy_id=policy_id, version=number, slot=slot, document=document, created_at=created_at
    )
    try:
        with conn.begin_nested():
            conn.execute(stmt)
    except IntegrityError as exc:
        if violation(exc).is_unique(versions, "policy_id", "slot"):
            return False
        raise
    return True


def set_default_version(conn: Connection, policy: IotPolicy, version: int, *, now: datetime | None = None) -> bool:
    """Make `version` the default; False when the policy has no such version."""
    exists = select(versions.c.version).where(versions.c.policy_id == policy.id, versions.c.version == version)
    stmt = (
        update(policies)
        .where(policies.c.id == policy.id, exists.exists())
        .values(default_version=version, generation_id=_generation(), updated_at=now or clock.now())
    )
    return bool(conn.execute(stmt).rowcount)


def delete_version(conn: Connection, policy: IotPolicy, version: int) -> bool:
    """Delete a version that is not the default; False when there is no such non-default version."""
    is_default = select(policies.c.id).where(policies.c.id == policy.id, policies.c.default_version == version)
    stmt = versions.delete().where(
        versions.c.policy_id == policy.id, versions.c.version == version, ~is_default.exists()
    )
    return bool(conn.execute(stmt).rowcount)


# -- targets -----------------------------------------------------------------------------------------


def attach(conn: Connection, account: str, policy: IotPolicy, target_arn: str, *, now: datetime | None = None) -> bool:
    """Attach the policy to a target; False when it already was. QuotaExceeded when the target has ten
    policies, NotFound when the policy is gone.
    """
    attached_at = now or clock.now()
    if _is_attached(conn, policy, target_arn):
        return False  # asked first: with every slot taken, the slot key could be the violation reported
    for slot in range(1, MAX_POLICIES_PER_TARGET + 1):
        stmt = insert(targets).values(
            account_id=account, policy_id=policy.id, target_arn=target_arn, slot=slot, attached_at=attached_at
        )
        try:
            with conn.begin_nested():
                conn.execute(stmt)
        except IntegrityError as exc:
            found = violation(exc)
            if found.is_unique(targets, "policy_id", "target_arn"):
                return False
            if found.is_unique(targets, "account_id", "target_arn", "slot"):
                continue
            if found.kind is Kind.FOREIGN_KEY:
                raise NotFound(f"Policy {policy.name} was not found.") from None
            raise
        return True
    raise QuotaExceeded(f"Target {target_arn} already has {MAX_POLICIES_PER_TARGET} policies attached.")


def _is_attached(conn: Connection, policy: IotPolicy, target_arn: str) -> bool:
    stmt = select(targets.c.slot).where(targets.c.policy_id == policy.id, targets.c.target_arn == target_arn)
    return conn.execute(stmt).first() is not None


def detach(conn: Connection, policy: IotPolicy, target_arn: str) -> bool:
    """False when the policy was not attached to the target."""
    stmt = targets.delete().where(targets.c.policy_id == policy.id, targets.c.target_arn == target_arn)
    return bool(conn.execute(stmt).rowcount)


def policy_target_count(conn: Connection, policy: IotPolicy) -> int:
    return int(conn.execute(select(func.count()).where(targets.c.policy_id == policy.id)).scalar_one())


def targets_of_policy(conn: Connection, policy: IotPolicy, *, after: str | None, limit: int) -> list[str]:
    """The target ARNs the policy is attached to, in byte order, after `after`."""
    stmt = select(targets.c.target_arn).where(targets.c.policy_id == policy.id)
    if after is not None:
        stmt = stmt.where(targets.c.target_arn > after)
    return list(conn.execute(stmt.order_by(targets.c.target_arn).limit(limit)).scalars())


def policies_of_target(
    conn: Connection, account: str, target_arn: str, *, after: str | None, limit: int, ascending: bool = True
) -> list[IotPolicy]:
    """The policies attached to one target, by name, after the name `after`."""
    return policies_of_targets(conn, account, [target_arn], after=after, limit=limit, ascending=ascending)


def policies_of_targets(
    conn: Connection,
    account: str,
    target_arns: Sequence[str],
    *,
    after: str | None,
    limit: int,
    ascending: bool = True,
) -> list[IotPolicy]:
    """The policies attached to any of the targets, each once, by name, after the name `after`."""
    attached = select(targets.c.policy_id).where(
        targets.c.account_id == account, targets.c.target_arn.in_(list(target_arns))
    )
    stmt = select(policies).where(policies.c.account_id == account, policies.c.id.in_(attached))
    if after is not None:
        stmt = stmt.where(policies.c.name > after if ascending else policies.c.name < after)
    order = policies.c.name.asc() if ascending else policies.c.name.desc()
    return [_policy(row) for row in conn.execute(stmt.order_by(order).limit(limit)).mappings()]


def target_policy_count(conn: Connection, account: str, target_arn: str) -> int:
    """How many policies are attached to the target (DeleteCertificate refuses while there are any)."""
    stmt = select(func.count()).where(targets.c.account_id == account, targets.c.target_arn == target_arn)
    return int(conn.execute(stmt).scalar_one())


def policies_for_targets(conn: Connection, account: str, target_arns: Sequence[str]) -> list[IotPolicyRecord]:
    """The policies attached to any of the targets, each once, by name, with its default document."""
    if not target_arns:
        return []
    attached = select(targets.c.policy_id).where(
        targets.c.account_id == account, targets.c.target_arn.in_(list(target_arns))
    )
    stmt = (
        select(policies.c.name, policies.c.arn, versions.c.document)
        .select_from(
            policies.join(
                versions,
                (versions.c.policy_id == policies.c.id) & (versions.c.version == policies.c.default_version),
            )
        )
        .where(policies.c.account_id == account, policies.c.id.in_(attached))
        .order_by(policies.c.name)
    )
    return [IotPolicyRecord(row.name, row.arn, row.document) for row in conn.execute(stmt)]


def _generation() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def _policy(row: RowMapping | Mapping[str, Any]) -> IotPolicy:
    return IotPolicy(
        id=row["id"],
        account=row["account_id"],
        name=row["name"],
        arn=row["arn"],
        default_version=row["default_version"],
        generation_id=row["generation_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        tags=MappingProxyType(dict(row["tags"])),
    )


def _version(row: RowMapping) -> IotPolicyVersion:
    return IotPolicyVersion(row["version"], row["document"], row["created_at"])
