"""CreateKeysAndCertificate and CreateCertificateFromCsr: device certificates issued by edgeward's own CA.

CreateKeysAndCertificate hands out an RSA-2048 key pair, as AWS does, taken from a pool generated ahead of
demand; the private key is in the reply only and never stored. With CreateCertificateFromCsr the key never
leaves the device: the CSR's own signature proves the requester holds it. Both record the certificate with
no `caCertificateId` (AWS shows one only for CAs the account registered).

The signing (and taking a key, or generating one when the pool is empty) needs no database: the pipeline
runs it before the request waits for the writer (`PREPARERS`), so only the INSERT is serialized.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

from edgeward.core import clock
from edgeward.pki.authority import CertificateAuthority
from edgeward.pki.csr import load_csr
from edgeward.pki.errors import PkiError
from edgeward.pki.issue import DEVICE_COMMON_NAME, issue_device_certificate
from edgeward.pki.keys import private_key_pem, public_key_pem
from edgeward.pki.pem import certificate_pem
from edgeward.services import metrics
from edgeward.services.context import PREPARED, Context, Preparer
from edgeward.services.iot import errors
from edgeward.services.iot.authority import issuing_authority, key_pool
from edgeward.services.iot.certificates_common import new_certificate_record, store_certificate

MAX_COMMON_NAME = 64  # X.520 upper bound


@dataclass(frozen=True, slots=True)
class Issued:
    """A signed certificate not yet stored (and, for CreateKeysAndCertificate, its new key pair)."""

    cert: x509.Certificate
    pem: str
    now: datetime
    active: bool
    key: rsa.RSAPrivateKey | None = None


def prepare_keys(ctx: Context, params: dict[str, Any]) -> Callable[[], Issued]:
    """Authorize, then (returned) take a pool key and sign its certificate: no database needed."""
    ctx.authorize("iot:CreateKeysAndCertificate", "*")
    authority, active = issuing_authority(ctx), bool(params.get("setAsActive"))

    def issue() -> Issued:
        key, pooled = key_pool().take_counted()
        metrics.device_key("pool" if pooled else "on_demand")
        return _sign(authority, key.public_key(), active, DEVICE_COMMON_NAME, key)

    return issue


def prepare_from_csr(ctx: Context, params: dict[str, Any]) -> Callable[[], Issued]:
    """Authorize, then (returned) check the CSR and sign its key's certificate."""
    ctx.authorize("iot:CreateCertificateFromCsr", "*")
    authority, active = issuing_authority(ctx), bool(params.get("setAsActive"))
    request = params["certificateSigningRequest"]

    def issue() -> Issued:
        try:
            csr = load_csr(request)
        except PkiError as exc:
            # The model gives this operation no CertificateValidationException: AWS answers InvalidRequest.
            raise errors.invalid_request(str(exc)) from None
        return _sign(authority, csr.public_key(), active, _common_name(csr))

    return issue


def create_keys_and_certificate(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    issued = _prepared(ctx, params, prepare_keys)
    assert issued.key is not None
    output = _store(ctx, issued)
    output["keyPair"] = {"PublicKey": public_key_pem(issued.key), "PrivateKey": private_key_pem(issued.key)}
    return output


def create_certificate_from_csr(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _store(ctx, _prepared(ctx, params, prepare_from_csr))


def _prepared(ctx: Context, params: dict[str, Any], preparer: Callable[..., Callable[[], Issued]]) -> Issued:
    """What the pipeline prepared before the transaction (it authorized the call then), else prepared now."""
    found = params.get(PREPARED)
    if isinstance(found, Issued):
        return found
    return preparer(ctx, params)()


def _sign(
    authority: CertificateAuthority,
    public_key: CertificatePublicKeyTypes,
    active: bool,
    common_name: str,
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    now = clock.now()
    cert = issue_device_certificate(authority, public_key, now=now, common_name=common_name)
    return Issued(cert, certificate_pem(cert), now, active, key)


def _store(ctx: Context, issued: Issued) -> dict[str, Any]:
    status = "ACTIVE" if issued.active else "INACTIVE"
    record = new_certificate_record(
        ctx, issued.cert, status=status, source="EDGEWARD_CA", pem=issued.pem, now=issued.now
    )
    return {**store_certificate(ctx, record), "certificatePem": issued.pem}


def _common_name(csr: x509.CertificateSigningRequest) -> str:
    """The CSR's common name (policies match on iot:Certificate.Subject.CommonName), else AWS's default."""
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) and 0 < len(value) <= MAX_COMMON_NAME else DEVICE_COMMON_NAME


OPERATIONS = {
    "CreateKeysAndCertificate": create_keys_and_certificate,
    "CreateCertificateFromCsr": create_certificate_from_csr,
}
PREPARERS: dict[str, Preparer] = {
    "CreateKeysAndCertificate": prepare_keys,
    "CreateCertificateFromCsr": prepare_from_csr,
}
