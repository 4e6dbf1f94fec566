"""Certificate signing requests from devices (CreateCertificateFromCsr)."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from edgeward.pki.errors import PkiError
from edgeward.pki.pem import check_key_supported

_PEM_MARKERS = ("-----BEGIN CERTIFICATE REQUEST-----", "-----BEGIN NEW CERTIFICATE REQUEST-----")


def load_csr(pem: str) -> x509.CertificateSigningRequest:
    """A parsed CSR whose self-signature holds and whose key edgeward accepts; PkiError otherwise."""
    if not any(marker in pem for marker in _PEM_MARKERS):
        raise PkiError("The certificate signing request is not a PEM-encoded PKCS#10 request")
    try:
        csr = x509.load_pem_x509_csr(pem.encode("utf-8"))
        public_key = csr.public_key()
    except UnsupportedAlgorithm:
        raise PkiError("The certificate signing request's key uses an unsupported algorithm") from None
    except (ValueError, UnicodeEncodeError):
        raise PkiError("The certificate signing request could not be parsed") from None
    check_key_supported(public_key)
    try:
        valid = csr.is_signature_valid
    except UnsupportedAlgorithm:
        raise PkiError("The certificate signing request is signed with an unsupported algorithm") from None
    if not valid:
        raise PkiError("The certificate signing request signature is not valid")
    return csr
