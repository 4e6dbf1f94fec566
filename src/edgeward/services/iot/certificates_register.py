"""RegisterCertificate and RegisterCertificateWithoutCA: device certificates made elsewhere.

RegisterCertificate wants the certificate signed by a CA the account registered: the one given as
`caCertificatePem`, or else the registered CA whose subject is the certificate's issuer and whose key made
its signature. The certificate takes the CA's mode. RegisterCertificateWithoutCA trusts the certificate as
it is (the mTLS listener then matches it exactly) and registers it in SNI_ONLY mode, as AWS does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography import x509

from edgeward.core import clock
from edgeward.pki.pem import certificate_id, certificate_pem, signed_by
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.certificates_common import (
    new_certificate_record,
    parse_certificate,
    registration_status,
    require_current,
    store_certificate,
)
from edgeward.storage.repos import iot_ca_certificates as ca_repo
from edgeward.storage.repos.iot_ca_certificates import CaCertificateRecord


def register_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:RegisterCertificate", "*")
    now = clock.now()
    cert = parse_certificate(params["certificatePem"])
    require_current(cert, now)
    status = registration_status(params)
    ca = _signing_ca(ctx, cert, params.get("caCertificatePem"), now)
    if ca.status != "ACTIVE":
        raise errors.certificate_state(
            f"The CA certificate {ca.certificate_id} is not ACTIVE: activate it with UpdateCACertificate first."
        )
    record = new_certificate_record(
        ctx,
        cert,
        status=status,
        source="REGISTERED_CA",
        pem=certificate_pem(cert),
        ca_certificate_id=ca.certificate_id,
        mode=ca.mode,
        now=now,
    )
    return store_certificate(ctx, record)


def register_certificate_without_ca(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:RegisterCertificateWithoutCA", "*")
    now = clock.now()
    cert = parse_certificate(params["certificatePem"])
    require_current(cert, now)
    status = registration_status(params)
    record = new_certificate_record(
        ctx, cert, status=status, source="NO_CA", pem=certificate_pem(cert), mode="SNI_ONLY", now=now
    )
    return store_certificate(ctx, record)


def _signing_ca(ctx: Context, cert: x509.Certificate, ca_pem: str | None, now: datetime) -> CaCertificateRecord:
    """The registered CA that signed `cert`; CertificateValidationException when there is none."""
    if ca_pem is not None:
        ca_cert = parse_certificate(ca_pem, "CA certificate")
        ca = ca_repo.get_account_ca_certificate(ctx.conn, ctx.account, certificate_id(ca_cert))
        if ca is None or ca.region != ctx.region:
            raise errors.certificate_validation("The CA certificate is not registered in this account and region.")
        if not signed_by(cert, ca_cert):
            raise errors.certificate_validation("The certificate is not signed by the given CA certificate.")
        _require_current_ca(ca_cert, now)
        return ca
    for ca in ca_repo.account_ca_certificates(ctx.conn, ctx.account, ctx.region):
        ca_cert = parse_certificate(ca.certificate_pem, "CA certificate")
        if signed_by(cert, ca_cert):
            _require_current_ca(ca_cert, now)
            return ca
    raise errors.certificate_validation(
        f"The certificate's issuer ({cert.issuer.rfc4514_string()}) is not a CA certificate registered in this "
        "account: register the CA with RegisterCACertificate, or use RegisterCertificateWithoutCA."
    )


def _require_current_ca(ca_cert: x509.Certificate, now: datetime) -> None:
    require_current(ca_cert, now, "CA certificate")


OPERATIONS = {
    "RegisterCertificate": register_certificate,
    "RegisterCertificateWithoutCA": register_certificate_without_ca,
}
