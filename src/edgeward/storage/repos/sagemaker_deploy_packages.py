"""Registered model packages: Edge packaging jobs recorded as COMPLETED for artifacts packaged elsewhere.

A name is unique per (account, region); the database enforces it. Registering a name again replaces the
artifact (a new package version under the same job name), which plans pick up when a stage next starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.integrity import violation
from edgeward.storage.repos.sagemaker_deploy_paging import TimeWindow, keyset_page
from edgeward.storage.tables_sagemaker_deploy import sagemaker_edge_packaging_jobs as jobs

SORT_COLUMNS = {
    "NAME": "name",
    "MODEL_NAME": "model_name",
    "CREATION_TIME": "created_at",
    "LAST_MODIFIED_TIME": "last_modified_at",
    "STATUS": "status",
}


@dataclass(frozen=True, slots=True)
class PackageRecord:
    id: int
    name: str
    arn: str
    model_name: str
    model_version: str
    model_artifact: str  # s3://bucket/key
    sha1: str  # hex
    status: str
    status_message: str | None
    created_at: datetime
    last_modified_at: datetime


@dataclass(frozen=True, slots=True)
class PackageFilter:
    name_contains: str | None = None
    model_name_contains: str | None = None
    status: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)


def put_package(conn: Connection, account: str, region: str, values: Mapping[str, Any]) -> PackageRecord:
    """Insert the package, or replace the artifact of the one of that name (keeping its creation time)."""
    row = {"account_id": account, "region": region, **values}
    try:
        with conn.begin_nested():
            conn.execute(insert(jobs).values(row))
    except IntegrityError as exc:
        if not violation(exc).is_unique(jobs, "account_id", "region", "name"):
            raise
        changes = {key: value for key, value in row.items() if key not in ("created_at", "account_id", "region")}
        conn.execute(update(jobs).where(*_named(account, region, str(values["name"]))).values(changes))
    found = get_package(conn, account, region, str(values["name"]))
    assert found is not None
    return found


def get_package(conn: Connection, account: str, region: str, name: str) -> PackageRecord | None:
    row = conn.execute(select(jobs).where(*_named(account, region, name))).mappings().one_or_none()
    return None if row is None else _record(row)


def get_packages(conn: Connection, account: str, region: str, names: Sequence[str]) -> dict[str, PackageRecord]:
    stmt = select(jobs).where(jobs.c.account_id == account, jobs.c.region == region, jobs.c.name.in_(list(names)))
    return {row["name"]: _record(row) for row in conn.execute(stmt).mappings()}


def list_packages(
    conn: Connection,
    account: str,
    region: str,
    where: PackageFilter,
    *,
    sort_by: str,
    descending: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> tuple[list[PackageRecord], tuple[Any, str] | None]:
    stmt = select(jobs).where(jobs.c.account_id == account, jobs.c.region == region, *_filters(where))
    rows, last = keyset_page(conn, stmt, jobs, SORT_COLUMNS[sort_by], descending=descending, after=after, limit=limit)
    return [_record(row) for row in rows], last


def _filters(where: PackageFilter) -> list[ColumnElement[bool]]:
    conditions = where.window.conditions(jobs)
    if where.name_contains:
        conditions.append(jobs.c.name.contains(where.name_contains, autoescape=True))
    if where.model_name_contains:
        conditions.append(jobs.c.model_name.contains(where.model_name_contains, autoescape=True))
    if where.status:
        conditions.append(jobs.c.status == where.status)
    return conditions


def _named(account: str, region: str, name: str) -> tuple[ColumnElement[bool], ...]:
    return jobs.c.account_id == account, jobs.c.region == region, jobs.c.name == name


def _record(row: RowMapping) -> PackageRecord:
    return PackageRecord(
        id=row["id"],
        name=row["name"],
        arn=row["arn"],
        model_name=row["model_name"],
        model_version=row["model_version"],
        model_artifact=row["model_artifact"],
        sha1=row["sha1"],
        status=row["status"],
        status_message=row["status_message"],
        created_at=row["created_at"],
        last_modified_at=row["last_modified_at"],
    )
