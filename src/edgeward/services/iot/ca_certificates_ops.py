"""GetRegistrationCode and the CA-certificate operations: RegisterCACertificate, DescribeCACertificate,
ListCACertificates, UpdateCACertificate, DeleteCACertificate.

Registering a CA in DEFAULT mode needs AWS's proof of possession: a verification certificate whose subject
common name is the account's registration code, signed by the CA's private key. SNI_ONLY mode needs none.

The registration code is derived, not stored: SHA-256 over the account and region. It need not be secret,
because it proves nothing by itself: only the CA key can sign a verification certificate. What the code
does is bind that certificate to one account, so a verification certificate made for another account (or
published) cannot be replayed here. Deriving it keeps GetRegistrationCode a pure read on every node.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from edgeward.core import clock
from edgeward.pki.pem import certificate_id, certificate_pem, signed_by
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.certificates_common import (
    ca_certificate_description,
    ca_certificate_summary,
    cacert_arn,
    page_output,
    page_request,
    parse_certificate,
    registration_code_error,
    require_current,
)
from edgeward.services.iot.policies_common import authorize_tags, tags_from_params
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_ca_certificates as ca_repo
from edgeward.storage.repos.iot_ca_certificates import CaCertificateRecord
from edgeward.storage.repos.iot_certificates import new_generation_id


def registration_code(account: str, region: str) -> str:
    return hashlib.sha256(f"edgeward iot registration code\0{account}\0{region}".encode()).hexdigest()


def get_registration_code(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:GetRegistrationCode", "*")
    return {"registrationCode": registration_code(ctx.account, ctx.region)}


def register_ca_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:RegisterCACertificate", "*")
    now = clock.now()
    ca_cert = parse_certificate(params["caCertificate"], "CA certificate")
    _require_ca(ca_cert)
    require_current(ca_cert, now, "CA certificate")
    mode = _mode(ctx, ca_cert, params)
    ca_id = certificate_id(ca_cert)
    arn = cacert_arn(ctx, ca_id)
    tags = tags_from_params(params.get("tags"))
    authorize_tags(ctx, arn, tags)
    record = CaCertificateRecord(
        certificate_id=ca_id,
        arn=arn,
        account=ctx.account,
        region=ctx.region,
        status="ACTIVE" if params.get("setAsActive") else "INACTIVE",
        certificate_pem=certificate_pem(ca_cert),
        mode=mode,
        auto_registration="ENABLE" if params.get("allowAutoRegistration") else "DISABLE",
        registration_config=_registration_config(params.get("registrationConfig")),
        tags=tags,
        not_before=ca_cert.not_valid_before_utc,
        not_after=ca_cert.not_valid_after_utc,
        created_at=now,
        last_modified_at=now,
        customer_version=1,
        generation_id=new_generation_id(),
    )
    try:
        ca_repo.insert_ca_certificate(ctx.conn, record)
    except storage_errors.AlreadyExists:
        raise errors.already_exists("The CA certificate is already registered", resource_id=ca_id) from None
    return {"certificateArn": arn, "certificateId": ca_id}


def describe_ca_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:DescribeCACertificate", cacert_arn(ctx, params["certificateId"]))
    record = _own(ctx, params["certificateId"])
    output: dict[str, Any] = {"certificateDescription": ca_certificate_description(record)}
    if record.registration_config:
        output["registrationConfig"] = dict(record.registration_config)
    return output


def list_ca_certificates(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListCACertificates", "*")
    after, size, ascending = page_request(params)
    records, next_position = ca_repo.list_ca_certificates(
        ctx.conn,
        ctx.account,
        ctx.region,
        ascending=ascending,
        after=after,
        page_size=size,
        template_name=params.get("templateName"),
    )
    return page_output("certificates", [ca_certificate_summary(r) for r in records], next_position)


def update_ca_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:UpdateCACertificate", cacert_arn(ctx, params["certificateId"]))
    record = _own(ctx, params["certificateId"], lock=True)
    changes: dict[str, Any] = {}
    if params.get("newStatus") is not None:
        changes["status"] = params["newStatus"]
    if params.get("newAutoRegistrationStatus") is not None:
        changes["auto_registration"] = params["newAutoRegistrationStatus"]
    if params.get("removeAutoRegistration"):
        if params.get("registrationConfig"):
            raise errors.invalid_request(
                "The registration config cannot be set and removed in the same request (removeAutoRegistration)."
            )
        changes["registration_config"] = None
    elif params.get("registrationConfig"):
        changes["registration_config"] = _registration_config(params["registrationConfig"])
    if changes:
        ca_repo.update_ca_certificate(ctx.conn, record, changes, clock.now())
    return {}


def delete_ca_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:DeleteCACertificate", cacert_arn(ctx, params["certificateId"]))
    record = _own(ctx, params["certificateId"], lock=True)
    if record.status == "ACTIVE":
        raise errors.certificate_state(
            f"The CA certificate must be deactivated (not ACTIVE) before deletion. Id: {record.certificate_id}"
        )
    ca_repo.delete_ca_certificate(ctx.conn, record.certificate_id)
    return {}


def _own(ctx: Context, ca_certificate_id: str, *, lock: bool = False) -> CaCertificateRecord:
    record = ca_repo.get_account_ca_certificate(ctx.conn, ctx.account, ca_certificate_id, lock=lock)
    if record is None or record.region != ctx.region:
        raise errors.not_found(f"The CA certificate {ca_certificate_id} does not exist.")
    return record


def _require_ca(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise errors.certificate_validation(
            "CA certificate is not valid. The CA certificate does not have the basicConstraints extension as true."
        )


def _mode(ctx: Context, ca_cert: x509.Certificate, params: dict[str, Any]) -> str:
    """DEFAULT (the verification certificate proves possession of the CA key) or SNI_ONLY (no proof)."""
    verification_pem = params.get("verificationCertificate")
    mode = params.get("certificateMode") or ("DEFAULT" if verification_pem else None)
    if mode is None:
        raise errors.invalid_request(
            "A verificationCertificate is required to register a CA in DEFAULT mode; "
            "without one, set certificateMode to SNI_ONLY."
        )
    if mode == "DEFAULT":
        if not verification_pem:
            raise errors.invalid_request("A verificationCertificate is required to register a CA in DEFAULT mode.")
        _check_proof_of_possession(ctx, ca_cert, verification_pem)
    return str(mode)


def _check_proof_of_possession(ctx: Context, ca_cert: x509.Certificate, verification_pem: str) -> None:
    verification = parse_certificate(verification_pem, "verification certificate")
    require_current(verification, clock.now(), "verification certificate")
    names = verification.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    expected = registration_code(ctx.account, ctx.region)
    if not names or str(names[0].value).lower() != expected:
        raise registration_code_error(
            "The verification certificate's subject common name must be this account's registration code "
            "(GetRegistrationCode)."
        )
    if not signed_by(verification, ca_cert):
        raise errors.certificate_validation(
            "The verification certificate is not signed by the CA certificate's private key."
        )


def _registration_config(config: dict[str, Any] | None) -> dict[str, str] | None:
    if not config:
        return None
    return {key: str(value) for key, value in config.items() if value is not None}


OPERATIONS = {
    "GetRegistrationCode": get_registration_code,
    "RegisterCACertificate": register_ca_certificate,
    "DescribeCACertificate": describe_ca_certificate,
    "ListCACertificates": list_ca_certificates,
    "UpdateCACertificate": update_ca_certificate,
    "DeleteCACertificate": delete_ca_certificate,
}
