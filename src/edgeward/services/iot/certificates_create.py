"""CreateKeysAndCertificate and CreateCertificateFromCsr: device certificates issued by edgeward's own CA.

CreateKeysAndCertificate hands out an RSA-2048 key pair, as AWS does, taken from a pool generated ahead of
demand; the private key is in the reply only and never stored. With CreateCertificateFromCsr the key never
leaves the device: the CSR's own signature proves the requester holds it. Both record the certificate with
no `caCertificateId` (AWS shows one only for CAs the account registered).
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

from edgeward.core import clock
from edgeward.pki.csr import load_csr
from edgeward.pki.errors import PkiError
from edgeward.pki.issue import DEVICE_COMMON_NAME, issue_device_certificate
from edgeward.pki.keys import private_key_pem, public_key_pem
from edgeward.pki.pem import certificate_pem
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.authority import issuing_authority, key_pool
from edgeward.services.iot.certificates_common import new_certificate_record, store_certificate

MAX_COMMON_NAME = 64  # X.520 upper bound


def _issue(
    ctx: Context, public_key: CertificatePublicKeyTypes, set_as_active: bool, common_name: str = DEVICE_COMMON_NAME
) -> dict[str, Any]:
    now = clock.now()
    cert = issue_device_certificate(issuing_authority(ctx), public_key, now=now, common_name=common_name)
    pem = certificate_pem(cert)
    status = "ACTIVE" if set_as_active else "INACTIVE"
    record = new_certificate_record(ctx, cert, status=status, source="EDGEWARD_CA", pem=pem, now=now)
    return {**store_certificate(ctx, record), "certificatePem": pem}


def create_keys_and_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:CreateKeysAndCertificate", "*")
    key = key_pool().take()
    output = _issue(ctx, key.public_key(), bool(params.get("setAsActive")))
    output["keyPair"] = {"PublicKey": public_key_pem(key), "PrivateKey": private_key_pem(key)}
    return output


def create_certificate_from_csr(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:CreateCertificateFromCsr", "*")
    try:
        csr = load_csr(params["certificateSigningRequest"])
    except PkiError as exc:
        # The model gives this operation no CertificateValidationException: AWS answers InvalidRequest.
        raise errors.invalid_request(str(exc)) from None
    return _issue(ctx, csr.public_key(), bool(params.get("setAsActive")), _common_name(csr))


def _common_name(csr: x509.CertificateSigningRequest) -> str:
    """The CSR's common name (policies match on iot:Certificate.Subject.CommonName), else AWS's default."""
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) and 0 < len(value) <= MAX_COMMON_NAME else DEVICE_COMMON_NAME


OPERATIONS = {
    "CreateKeysAndCertificate": create_keys_and_certificate,
    "CreateCertificateFromCsr": create_certificate_from_csr,
}
