"""IoT device certificates: the rows behind CreateKeysAndCertificate, CreateCertificateFromCsr, the
Register* operations, and what the mTLS listener trusts.

The id is the SHA-256 of the certificate's DER (the primary key), so `get_certificate` finds a peer
certificate by hashing it, whatever account it belongs to. Every change bumps `customer_version` and draws a
new `generation_id`, as AWS does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.errors import AlreadyExists, NotFound
from edgeward.storage.fastpath import HotStatement
from edgeward.storage.integrity import violation
from edgeward.storage.tables_iot_certs import iot_certificates

# Where a listing resumes: after the (created_at, certificate_id) of the last item shown.
Position = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    certificate_id: str
    arn: str
    account: str
    region: str
    status: str
    source: str  # EDGEWARD_CA | REGISTERED_CA | NO_CA (see tables_iot_certs)
    certificate_pem: str
    ca_certificate_id: str | None
    mode: str
    not_before: datetime
    not_after: datetime
    created_at: datetime
    last_modified_at: datetime
    customer_version: int
    generation_id: str

    @property
    def owned_by(self) -> str:
        return self.account


def new_generation_id() -> str:
    return str(uuid.uuid4())


def insert_certificate(conn: Connection, record: CertificateRecord) -> None:
    """Store a new certificate; AlreadyExists when that very certificate (same id) is registered already.

    No savepoint of its own: a duplicate fails the request, whose transaction (or the group writer's
    savepoint for it) is rolled back anyway; on PostgreSQL the failed INSERT leaves the transaction
    unusable, so callers must not carry on after AlreadyExists.
    """
    try:
        _INSERT.execute(conn, _values(record))
    except IntegrityError as exc:
        if violation(exc).is_unique(iot_certificates, "certificate_id"):
            raise AlreadyExists(f"The certificate is already registered: {record.certificate_id}") from None
        raise


def get_certificate(conn: Connection, certificate_id: str) -> CertificateRecord | None:
    """By id in any account: what the mTLS listener needs, knowing only the peer certificate."""
    return _one(conn, iot_certificates.c.certificate_id == certificate_id.lower())


def get_account_certificate(
    conn: Connection, account: str, certificate_id: str, *, lock: bool = False
) -> CertificateRecord | None:
    """The account's certificate of that id; `lock=True` holds its row (FOR UPDATE) for a change."""
    conditions = (iot_certificates.c.certificate_id == certificate_id.lower(), iot_certificates.c.account_id == account)
    return _one(conn, *conditions, lock=lock)


def set_certificate_status(conn: Connection, record: CertificateRecord, status: str, now: datetime) -> None:
    """New status (and version); NotFound when the certificate is gone."""
    bump_version(conn, iot_certificates, record.certificate_id, {"status": status}, now, "certificate")


def bump_version(
    conn: Connection, table: Table, certificate_id: str, changes: Mapping[str, Any], now: datetime, noun: str
) -> None:
    """Apply `changes` to a certificate or CA certificate row with a new customer version and generation id;
    NotFound when the row is gone."""
    stmt = (
        update(table)
        .where(table.c.certificate_id == certificate_id)
        .values(
            **changes,
            last_modified_at=now,
            customer_version=table.c.customer_version + 1,
            generation_id=new_generation_id(),
        )
    )
    if conn.execute(stmt).rowcount == 0:
        raise NotFound(f"The {noun} {certificate_id} does not exist.")


def delete_certificate(conn: Connection, certificate_id: str) -> bool:
    stmt = iot_certificates.delete().where(iot_certificates.c.certificate_id == certificate_id)
    return bool(conn.execute(stmt).rowcount)


def list_certificates(
    conn: Connection,
    account: str,
    region: str,
    *,
    ca_certificate_id: str | None = None,
    ascending: bool = False,
    after: Position | None = None,
    page_size: int = 25,
) -> tuple[list[CertificateRecord], Position | None]:
    """A page of the account's certificates by creation date (newest first unless `ascending`), and where
    the next page starts (None on the last). `ca_certificate_id` keeps those registered under that CA.
    """
    table = iot_certificates
    conditions: list[ColumnElement[bool]] = [table.c.account_id == account, table.c.region == region]
    if ca_certificate_id is not None:
        conditions.append(table.c.ca_certificate_id == ca_certificate_id.lower())
    if after is not None:
        conditions.append(after_position(table, after, ascending))
    order = (table.c.created_at, table.c.certificate_id)
    stmt = select(table).where(*conditions)
    stmt = stmt.order_by(*(order if ascending else tuple(column.desc() for column in order))).limit(page_size + 1)
    records = [_record(row) for row in conn.execute(stmt).mappings()]
    if len(records) <= page_size:
        return records, None
    last = records[page_size - 1]
    return records[:page_size], (last.created_at, last.certificate_id)


def active_certificates_without_ca(conn: Connection) -> list[CertificateRecord]:
    """Every ACTIVE certificate registered without a CA (any account): the mTLS listener trusts these by
    exact match, since nothing it knows signed them."""
    stmt = select(iot_certificates).where(iot_certificates.c.source == "NO_CA", iot_certificates.c.status == "ACTIVE")
    return [_record(row) for row in conn.execute(stmt).mappings()]


def after_position(table: Table, after: Position, ascending: bool) -> ColumnElement[bool]:
    """Rows past `after` in (created_at, certificate_id) order, ascending or descending (keyset paging)."""
    created, certificate_id = after
    if ascending:
        return or_(
            table.c.created_at > created, and_(table.c.created_at == created, table.c.certificate_id > certificate_id)
        )
    return or_(
        table.c.created_at < created, and_(table.c.created_at == created, table.c.certificate_id < certificate_id)
    )


def _one(conn: Connection, *conditions: ColumnElement[bool], lock: bool = False) -> CertificateRecord | None:
    stmt = select(iot_certificates).where(*conditions)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


# Built once: issuing a certificate is a hot path (bursts of CreateKeysAndCertificate / ...FromCsr).
_INSERT = HotStatement(
    insert(iot_certificates).values({column.name: bindparam(column.name) for column in iot_certificates.c})
)


def _values(record: CertificateRecord) -> dict[str, Any]:
    return {
        "certificate_id": record.certificate_id,
        "account_id": record.account,
        "region": record.region,
        "arn": record.arn,
        "status": record.status,
        "source": record.source,
        "certificate_pem": record.certificate_pem,
        "ca_certificate_id": record.ca_certificate_id,
        "mode": record.mode,
        "not_before": record.not_before,
        "not_after": record.not_after,
        "created_at": record.created_at,
        "last_modified_at": record.last_modified_at,
        "customer_version": record.customer_version,
        "generation_id": record.generation_id,
    }


def _record(row: RowMapping | Mapping[str, Any]) -> CertificateRecord:
    return CertificateRecord(
        certificate_id=row["certificate_id"],
        arn=row["arn"],
        account=row["account_id"],
        region=row["region"],
        status=row["status"],
        source=row["source"],
        certificate_pem=row["certificate_pem"],
        ca_certificate_id=row["ca_certificate_id"],
        mode=row["mode"],
        not_before=row["not_before"],
        not_after=row["not_after"],
        created_at=row["created_at"],
        last_modified_at=row["last_modified_at"],
        customer_version=row["customer_version"],
        generation_id=row["generation_id"],
    )
