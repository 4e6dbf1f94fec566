"""The exchange's reads, each one prebuilt statement run on the driver's cursor (`storage.fastpath`).

Every exchange reads the certificate, its CA, the alias and the alias's role: one joined query (`device`).
The IoT policies attached to the certificate: a second (`certificate_policies`). Those two and the session
insert are the whole database work of a device that does not name its thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, select

from edgeward.storage.fastpath import HotQuery
from edgeward.storage.tables_entities import iam_roles
from edgeward.storage.tables_iot_certs import iot_ca_certificates, iot_certificates
from edgeward.storage.tables_iot_policies import iot_policies, iot_policy_targets, iot_policy_versions, iot_role_aliases

_c, _ca, _a, _r = iot_certificates.c, iot_ca_certificates.c, iot_role_aliases.c, iam_roles.c

_DEVICE = HotQuery(
    select(
        _c.status,
        _c.account_id,
        _c.arn,
        _c.ca_certificate_id,
        _ca.status,
        _a.arn,
        _a.role_arn,
        _a.credential_duration_seconds,
        _r.id,
        _r.arn,
        _r.trust_policy,
        _r.max_session_duration,
    )
    .select_from(
        iot_certificates.outerjoin(iot_ca_certificates, _ca.certificate_id == _c.ca_certificate_id)
        .outerjoin(iot_role_aliases, and_(_a.account_id == _c.account_id, _a.alias == bindparam("alias")))
        .outerjoin(iam_roles, and_(_r.account_id == _c.account_id, _r.arn == _a.role_arn))
    )
    .where(_c.certificate_id == bindparam("certificate_id"))
)

_t, _p, _v = iot_policy_targets.c, iot_policies.c, iot_policy_versions.c

_POLICIES = HotQuery(
    select(_v.document)
    .select_from(
        iot_policy_targets.join(iot_policies, _p.id == _t.policy_id).join(
            iot_policy_versions, and_(_v.policy_id == _p.id, _v.version == _p.default_version)
        )
    )
    .where(_t.account_id == bindparam("account"), _t.target_arn == bindparam("target"))
)


@dataclass(frozen=True, slots=True)
class AliasRole:
    """The role an alias names, as far as the exchange needs it."""

    id: int
    arn: str
    trust_policy: str
    max_session_duration: int


@dataclass(frozen=True, slots=True)
class Alias:
    arn: str
    role_arn: str
    credential_duration_seconds: int
    role: AliasRole | None  # None when no role has exactly the ARN the alias stores (see `exchange`)


@dataclass(frozen=True, slots=True)
class Device:
    """A certificate row, its CA's status, and the requested alias with its role, from one query."""

    status: str
    account: str
    certificate_arn: str
    ca_certificate_id: str | None
    ca_status: str | None
    alias: Alias | None


def device(conn: Connection, certificate_id: str, alias: str) -> Device | None:
    """None for a certificate edgeward does not know."""
    row = _DEVICE.first(conn, {"certificate_id": certificate_id, "alias": alias})
    if row is None:
        return None
    status, account, arn, ca_id, ca_status, alias_arn, role_arn, duration, role_id = row[:9]
    role = None if role_id is None else AliasRole(int(role_id), row[9], row[10], int(row[11]))
    found = None if alias_arn is None else Alias(alias_arn, role_arn, int(duration), role)
    return Device(status, account.strip(), arn, ca_id, ca_status, found)


def certificate_policies(conn: Connection, account: str, certificate_arn: str) -> list[str]:
    """The default-version documents of the IoT policies attached to the certificate."""
    return [row[0] for row in _POLICIES.all(conn, {"account": account, "target": certificate_arn})]
