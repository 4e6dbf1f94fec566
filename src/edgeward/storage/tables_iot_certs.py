"""IoT device certificates and registered CA certificates.

A certificate's id is the SHA-256 of its DER encoding, so it is the primary key: the mTLS listener, which
knows only the peer certificate, finds the row by hashing it, and the same certificate can never be
registered twice (in any account). The PEM is kept as issued or registered; the private key never is.

`source` says why edgeward trusts a device certificate:
- `EDGEWARD_CA`: issued by edgeward's own CA (CreateKeysAndCertificate, CreateCertificateFromCsr);
- `REGISTERED_CA`: signed by a CA the account registered (`ca_certificate_id` names it);
- `NO_CA`: registered without a CA (RegisterCertificateWithoutCA): trusted by exact match only.
`ca_certificate_id` has no foreign key: AWS lets an inactive CA be deleted while device certificates it
signed stay registered; such certificates then chain to nothing and are refused at the handshake.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Table, Text

from edgeward.storage.tables import ACCOUNT_ID, metadata
from edgeward.storage.types import JsonText, UtcDateTime

CERTIFICATE_STATUSES = ("ACTIVE", "INACTIVE", "REVOKED", "PENDING_TRANSFER", "REGISTER_INACTIVE", "PENDING_ACTIVATION")
CA_CERTIFICATE_STATUSES = ("ACTIVE", "INACTIVE")
CERTIFICATE_MODES = ("DEFAULT", "SNI_ONLY")
CERTIFICATE_SOURCES = ("EDGEWARD_CA", "REGISTERED_CA", "NO_CA")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


iot_ca_certificates = Table(
    "iot_ca_certificates",
    metadata,
    Column("certificate_id", Text, primary_key=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("arn", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("auto_registration", Text, nullable=False),
    Column("registration_config", JsonText, nullable=True),
    Column("tags", JsonText, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_modified_at", UtcDateTime, nullable=False),
    Column("customer_version", Integer, nullable=False),
    Column("generation_id", Text, nullable=False),
    CheckConstraint(_one_of("status", CA_CERTIFICATE_STATUSES), name="status"),
    CheckConstraint(_one_of("mode", CERTIFICATE_MODES), name="mode"),
    CheckConstraint("auto_registration IN ('ENABLE', 'DISABLE')", name="auto_registration"),
    Index(None, "account_id", "region", "created_at"),
    Index(None, "status"),
)

iot_certificates = Table(
    "iot_certificates",
    metadata,
    Column("certificate_id", Text, primary_key=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("arn", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("ca_certificate_id", Text, nullable=True),
    Column("mode", Text, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_modified_at", UtcDateTime, nullable=False),
    Column("customer_version", Integer, nullable=False),
    Column("generation_id", Text, nullable=False),
    CheckConstraint(_one_of("status", CERTIFICATE_STATUSES), name="status"),
    CheckConstraint(_one_of("mode", CERTIFICATE_MODES), name="mode"),
    CheckConstraint(_one_of("source", CERTIFICATE_SOURCES), name="source"),
    CheckConstraint(
        "(source = 'REGISTERED_CA' AND ca_certificate_id IS NOT NULL) OR "
        "(source <> 'REGISTERED_CA' AND ca_certificate_id IS NULL)",
        name="ca",
    ),
    Index(None, "account_id", "region", "created_at"),
    Index(None, "ca_certificate_id", "created_at"),
    Index(None, "source", "status"),
)
