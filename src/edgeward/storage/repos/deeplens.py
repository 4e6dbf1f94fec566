"""DeepLens-style device registrations (see `tables_deeplens`).

The one-time key download is a conditional UPDATE: it succeeds only while the sealed key is still the one
read, so of two concurrent downloads exactly one gets the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from edgeward.storage.errors import AlreadyExists
from edgeward.storage.integrity import violation
from edgeward.storage.tables_deeplens import deeplens_devices as devices


def key_context(account: str, region: str, name: str, certificate_id: str) -> bytes:
    """Associated data of a sealed device key: it opens only for this device's registration."""
    return f"deeplens-key:{account}:{region}:{name}:{certificate_id}".encode()


@dataclass(frozen=True, slots=True)
class DeepLensDevice:
    id: int
    account: str
    region: str
    name: str
    arn: str
    thing_name: str
    certificate_id: str
    certificate_arn: str
    policy_name: str
    role_alias: str
    role_alias_arn: str
    fleet_name: str
    sagemaker_device_name: str
    roles: Mapping[str, str]
    private_key_ciphertext: str | None
    registered_at: datetime
    bundle_downloaded_at: datetime | None
    first_authenticated_at: datetime | None


def insert_device(conn: Connection, values: Mapping[str, Any]) -> DeepLensDevice:
    """Insert a registration (`values` holds every column but `id`); AlreadyExists when the name is taken."""
    try:
        with conn.begin_nested():
            device_id = conn.execute(insert(devices).values(dict(values)).returning(devices.c.id)).scalar_one()
    except IntegrityError as exc:
        if violation(exc).is_unique(devices, "account_id", "region", "name"):
            raise AlreadyExists(f"Device {values['name']} is already registered.") from None
        raise
    return _record({**values, "id": device_id})


def get_device(conn: Connection, account: str, region: str, name: str, *, lock: bool = False) -> DeepLensDevice | None:
    stmt = select(devices).where(devices.c.account_id == account, devices.c.region == region, devices.c.name == name)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _record(row)


def list_devices(conn: Connection, account: str, region: str, *, after: str | None, limit: int) -> list[DeepLensDevice]:
    """Up to `limit` registrations by name (byte order), those after `after` when given."""
    stmt = select(devices).where(devices.c.account_id == account, devices.c.region == region)
    if after is not None:
        stmt = stmt.where(devices.c.name > after)
    stmt = stmt.order_by(devices.c.name).limit(limit)
    return [_record(row) for row in conn.execute(stmt).mappings()]


def take_private_key(conn: Connection, device: DeepLensDevice, now: datetime) -> bool:
    """Erase the sealed key read in `device` and record the download; False when another download took it."""
    if device.private_key_ciphertext is None:
        return False
    stmt = (
        update(devices)
        .where(devices.c.id == device.id, devices.c.private_key_ciphertext == device.private_key_ciphertext)
        .values(private_key_ciphertext=None, bundle_downloaded_at=now)
    )
    return bool(conn.execute(stmt).rowcount)


def note_first_authentication(conn: Connection, certificate_id: str, now: datetime) -> bool:
    """Record the first credentials exchange of a registered device's certificate; False when there is no such
    registration or its first exchange is recorded already (one indexed UPDATE either way)."""
    stmt = (
        update(devices)
        .where(devices.c.certificate_id == certificate_id, devices.c.first_authenticated_at.is_(None))
        .values(first_authenticated_at=now)
    )
    return bool(conn.execute(stmt).rowcount)


def delete_device(conn: Connection, device_id: int) -> bool:
    return bool(conn.execute(delete(devices).where(devices.c.id == device_id)).rowcount)


def _record(row: RowMapping | Mapping[str, Any]) -> DeepLensDevice:
    return DeepLensDevice(
        id=row["id"],
        account=row["account_id"],
        region=row["region"],
        name=row["name"],
        arn=row["arn"],
        thing_name=row["thing_name"],
        certificate_id=row["certificate_id"],
        certificate_arn=row["certificate_arn"],
        policy_name=row["policy_name"],
        role_alias=row["role_alias"],
        role_alias_arn=row["role_alias_arn"],
        fleet_name=row["fleet_name"],
        sagemaker_device_name=row["sagemaker_device_name"],
        roles=MappingProxyType(dict(row["roles"] or {})),
        private_key_ciphertext=row["private_key_ciphertext"],
        registered_at=row["registered_at"],
        bundle_downloaded_at=row["bundle_downloaded_at"],
        first_authenticated_at=row["first_authenticated_at"],
    )
