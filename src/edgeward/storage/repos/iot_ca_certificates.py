"""CA certificates an account registered (RegisterCACertificate): device certificates they signed can be
registered (RegisterCertificate), and the mTLS listener trusts the ACTIVE ones as issuers.

Like device certificates, a CA certificate's id is the SHA-256 of its DER and the primary key.
`active_certificates_without_ca` (defined with the device certificates) is re-exported here, next to
`active_ca_certificates`: together they are what the mTLS listener trusts besides edgeward's own CA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from edgeward.storage.errors import AlreadyExists
from edgeward.storage.integrity import violation
from edgeward.storage.repos.iot_certificates import Position, after_position, bump_version
from edgeward.storage.repos.iot_certificates import active_certificates_without_ca as active_certificates_without_ca
from edgeward.storage.tables_iot_certs import iot_ca_certificates


@dataclass(frozen=True, slots=True)
class CaCertificateRecord:
    certificate_id: str
    arn: str
    account: str
    region: str
    status: str  # ACTIVE | INACTIVE
    certificate_pem: str
    mode: str  # DEFAULT | SNI_ONLY
    auto_registration: str  # ENABLE | DISABLE
    registration_config: Mapping[str, str] | None
    tags: Mapping[str, str]
    not_before: datetime
    not_after: datetime
    created_at: datetime
    last_modified_at: datetime
    customer_version: int
    generation_id: str

    @property
    def owned_by(self) -> str:
        return self.account


def insert_ca_certificate(conn: Connection, record: CaCertificateRecord) -> None:
    """Store a new CA certificate; AlreadyExists when that very certificate is registered already."""
    values = {
        "certificate_id": record.certificate_id,
        "account_id": record.account,
        "region": record.region,
        "arn": record.arn,
        "status": record.status,
        "certificate_pem": record.certificate_pem,
        "mode": record.mode,
        "auto_registration": record.auto_registration,
        "registration_config": dict(record.registration_config) if record.registration_config else None,
        "tags": dict(record.tags),
        "not_before": record.not_before,
        "not_after": record.not_after,
        "created_at": record.created_at,
        "last_modified_at": record.last_modified_at,
        "customer_version": record.customer_version,
        "generation_id": record.generation_id,
    }
    try:
        with conn.begin_nested():
            conn.execute(insert(iot_ca_certificates).values(values))
    except IntegrityError as exc:
        if violation(exc).is_unique(iot_ca_certificates, "certificate_id"):
            raise AlreadyExists(f"The CA certificate is already registered: {record.certificate_id}") from None
        raise


def get_ca_certificate(conn: Connection, ca_certificate_id: str) -> CaCertificateRecord | None:
    """By id in any account (the mTLS listener's view)."""
    return _one(conn, iot_ca_certificates.c.certificate_id == ca_certificate_id.lower())


def get_account_ca_certificate(
    conn: Connection, account: str, ca_certificate_id: str, *, lock: bool = False
) -> CaCertificateRecord | None:
    table = iot_ca_certificates
    return _one(conn, table.c.certificate_id == ca_certificate_id.lower(), table.c.account_id == account, lock=lock)


def account_ca_certificates(conn: Connection, account: str, region: str) -> list[CaCertificateRecord]:
    """All the account's CA certificates in the region (RegisterCertificate looks for the signer among them)."""
    table = iot_ca_certificates
    stmt = select(table).where(table.c.account_id == account, table.c.region == region)
    return [_record(row) for row in conn.execute(stmt).mappings()]


def active_ca_certificates(conn: Connection) -> list[CaCertificateRecord]:
    """Every ACTIVE registered CA in any account: the issuers the mTLS listener trusts besides edgeward's."""
    stmt = select(iot_ca_certificates).where(iot_ca_certificates.c.status == "ACTIVE")
    return [_record(row) for row in conn.execute(stmt).mappings()]


def update_ca_certificate(
    conn: Connection, record: CaCertificateRecord, changes: Mapping[str, Any], now: datetime
) -> None:
    """Apply `changes` (column -> value: status, auto_registration, registration_config) and a new version;
    NotFound when the CA certificate is gone."""
    bump_version(conn, iot_ca_certificates, record.certificate_id, changes, now, "CA certificate")


def delete_ca_certificate(conn: Connection, ca_certificate_id: str) -> bool:
    stmt = iot_ca_certificates.delete().where(iot_ca_certificates.c.certificate_id == ca_certificate_id)
    return bool(conn.execute(stmt).rowcount)


def list_ca_certificates(
    conn: Connection,
    account: str,
    region: str,
    *,
    ascending: bool = False,
    after: Position | None = None,
    page_size: int = 25,
    template_name: str | None = None,
) -> tuple[list[CaCertificateRecord], Position | None]:
    """A page of the account's CA certificates by creation date, as `iot_certificates.list_certificates`."""
    table = iot_ca_certificates
    conditions: list[ColumnElement[bool]] = [table.c.account_id == account, table.c.region == region]
    if after is not None:
        conditions.append(after_position(table, after, ascending))
    order = (table.c.created_at, table.c.certificate_id)
    stmt = select(table).where(*conditions)
    stmt = stmt.order_by(*(order if ascending else tuple(column.desc() for column in order)))
    records = [_record(row) for row in conn.execute(stmt).mappings()]
    if template_name is not None:
        # The template name lives inside the JSON registration config; accounts hold few CAs, so filter here.
        records = [r for r in records if (r.registration_config or {}).get("templateName") == template_name]
    if len(records) <= page_size:
        return records, None
    last = records[page_size - 1]
    return records[:page_size], (last.created_at, last.certificate_id)


def _one(conn: Connection, *conditions: ColumnElement[bool], lock: bool = False) -> CaCertificateRecord | None:
    stmt = select(iot_ca_certificates).where(*conditions)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def _record(row: RowMapping | Mapping[str, Any]) -> CaCertificateRecord:
    config = row["registration_config"]
    return CaCertificateRecord(
        certificate_id=row["certificate_id"],
        arn=row["arn"],
        account=row["account_id"],
        region=row["region"],
        status=row["status"],
        certificate_pem=row["certificate_pem"],
        mode=row["mode"],
        auto_registration=row["auto_registration"],
        registration_config=MappingProxyType(dict(config)) if config else None,
        tags=MappingProxyType(dict(row["tags"])),
        not_before=row["not_before"],
        not_after=row["not_after"],
        created_at=row["created_at"],
        last_modified_at=row["last_modified_at"],
        customer_version=row["customer_version"],
        generation_id=row["generation_id"],
    )
