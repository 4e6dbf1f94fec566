"""What the certificate and CA-certificate handlers share: ARNs, PEM parsing in IoT's error vocabulary,
the records built from parsed certificates, paging by creation date, and the output shapes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography import x509

from edgeward.core import clock
from edgeward.core.errors import ServiceError
from edgeward.pki.errors import PkiError
from edgeward.pki.pem import certificate_id, check_key_supported, load_certificate, public_key_of
from edgeward.pki.verify import check_validity
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_certificates as cert_repo
from edgeward.storage.repos.iot_ca_certificates import CaCertificateRecord
from edgeward.storage.repos.iot_certificates import CertificateRecord, Position

DEFAULT_PAGE_SIZE = 25


def cert_arn(ctx: Context, certificate_id_text: str) -> str:
    return ctx.arn("iot", f"cert/{certificate_id_text.lower()}")


def cacert_arn(ctx: Context, certificate_id_text: str) -> str:
    return ctx.arn("iot", f"cacert/{certificate_id_text.lower()}")


def parse_certificate(pem: str, what: str = "certificate") -> x509.Certificate:
    """A PEM certificate whose key edgeward accepts; CertificateValidationException saying what is wrong."""
    try:
        cert = load_certificate(pem)
        check_key_supported(public_key_of(cert))
    except PkiError as exc:
        raise errors.certificate_validation(f"The {what} is not valid: {exc}") from None
    return cert


def require_current(cert: x509.Certificate, now: datetime, what: str = "certificate") -> None:
    """CertificateValidationException when `now` is outside the certificate's validity period."""
    try:
        check_validity(cert, now)
    except PkiError as exc:
        raise errors.certificate_validation(f"The {what} is not valid: {exc}") from None


def new_certificate_record(
    ctx: Context,
    cert: x509.Certificate,
    *,
    status: str,
    source: str,
    pem: str,
    ca_certificate_id: str | None = None,
    mode: str = "DEFAULT",
    now: datetime | None = None,
) -> CertificateRecord:
    when = now or clock.now()
    cid = certificate_id(cert)
    return CertificateRecord(
        certificate_id=cid,
        arn=cert_arn(ctx, cid),
        account=ctx.account,
        region=ctx.region,
        status=status,
        source=source,
        certificate_pem=pem,
        ca_certificate_id=ca_certificate_id,
        mode=mode,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        created_at=when,
        last_modified_at=when,
        customer_version=1,
        generation_id=cert_repo.new_generation_id(),
    )


def store_certificate(ctx: Context, record: CertificateRecord) -> dict[str, Any]:
    """Insert the record; ResourceAlreadyExistsException when that certificate is registered already."""
    try:
        cert_repo.insert_certificate(ctx.conn, record)
    except storage_errors.AlreadyExists:
        raise errors.already_exists(
            "The certificate is already provisioned or registered", resource_id=record.certificate_id
        ) from None
    return {"certificateArn": record.arn, "certificateId": record.certificate_id}


def own_certificate(ctx: Context, certificate_id_text: str, *, lock: bool = False) -> CertificateRecord:
    """The caller's certificate in this region; ResourceNotFoundException otherwise."""
    record = cert_repo.get_account_certificate(ctx.conn, ctx.account, certificate_id_text, lock=lock)
    if record is None or record.region != ctx.region:
        raise errors.not_found(f"The certificate {certificate_id_text} does not exist.")
    return record


# -- paging: the marker is base64 of "<created_at ISO>|<certificate id>" (the model wants base64) ------------


def page_request(params: Mapping[str, Any]) -> tuple[Position | None, int, bool]:
    """(where to resume, page size, ascending) from `marker`, `pageSize`, `ascendingOrder` (default newest
    first, as AWS)."""
    marker = params.get("marker")
    after: Position | None = None
    if marker:
        try:
            created_text, _, cid = base64.b64decode(marker, validate=True).decode().partition("|")
            after = (datetime.fromisoformat(created_text), cid)
            if after[0].tzinfo is None or not cid:
                raise ValueError(marker)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise errors.invalid_request(f"Invalid marker: {marker}") from None
    return after, int(params.get("pageSize") or DEFAULT_PAGE_SIZE), bool(params.get("ascendingOrder"))


def page_output(key: str, items: list[dict[str, Any]], next_position: Position | None) -> dict[str, Any]:
    output: dict[str, Any] = {key: items}
    if next_position is not None:
        created, cid = next_position
        output["nextMarker"] = base64.b64encode(f"{created.isoformat()}|{cid}".encode()).decode()
    return output


# -- output shapes ----------------------------------------------------------------------------------------


def certificate_summary(record: CertificateRecord) -> dict[str, Any]:
    return {
        "certificateArn": record.arn,
        "certificateId": record.certificate_id,
        "status": record.status,
        "certificateMode": record.mode,
        "creationDate": record.created_at,
    }


def certificate_description(record: CertificateRecord) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "certificateArn": record.arn,
        "certificateId": record.certificate_id,
        "status": record.status,
        "certificatePem": record.certificate_pem,
        "ownedBy": record.owned_by,
        "creationDate": record.created_at,
        "lastModifiedDate": record.last_modified_at,
        "customerVersion": record.customer_version,
        "generationId": record.generation_id,
        "validity": {"notBefore": record.not_before, "notAfter": record.not_after},
        "certificateMode": record.mode,
        "transferData": {},
    }
    if record.ca_certificate_id is not None:
        shape["caCertificateId"] = record.ca_certificate_id
    return shape


def ca_certificate_summary(record: CaCertificateRecord) -> dict[str, Any]:
    return {
        "certificateArn": record.arn,
        "certificateId": record.certificate_id,
        "status": record.status,
        "creationDate": record.created_at,
    }


def ca_certificate_description(record: CaCertificateRecord) -> dict[str, Any]:
    return {
        "certificateArn": record.arn,
        "certificateId": record.certificate_id,
        "status": record.status,
        "certificatePem": record.certificate_pem,
        "ownedBy": record.owned_by,
        "creationDate": record.created_at,
        "autoRegistrationStatus": record.auto_registration,
        "lastModifiedDate": record.last_modified_at,
        "customerVersion": record.customer_version,
        "generationId": record.generation_id,
        "validity": {"notBefore": record.not_before, "notAfter": record.not_after},
        "certificateMode": record.mode,
    }


def registration_status(params: Mapping[str, Any], default: str = "INACTIVE") -> str:
    """The status a Register* request asks for: `status`, else the deprecated `setAsActive`, else `default`.
    Only ACTIVE, INACTIVE and REVOKED can be chosen at registration."""
    status = params.get("status")
    if status is None:
        return "ACTIVE" if params.get("setAsActive") else default
    if status not in ("ACTIVE", "INACTIVE", "REVOKED"):
        raise errors.invalid_request(
            f"Invalid status {status}: a certificate can be registered as ACTIVE, INACTIVE or REVOKED."
        )
    return str(status)


def registration_code_error(message: str) -> ServiceError:
    return ServiceError("RegistrationCodeValidationException", message, 400)
