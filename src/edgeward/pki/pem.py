"""Certificates in and out of PEM, AWS certificate ids, issuer checks and the key types edgeward accepts."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from edgeward.pki.errors import PkiError

MIN_RSA_BITS = 2048
# The curves AWS IoT accepts for device keys; the same set standard TLS stacks all speak.
SUPPORTED_CURVES = ("secp256r1", "secp384r1")
_PEM_MARKER = "-----BEGIN CERTIFICATE-----"


def load_certificate(pem: str) -> x509.Certificate:
    """The first certificate of a PEM text; PkiError for anything that is not one."""
    if _PEM_MARKER not in pem:
        raise PkiError("The certificate is not a PEM-encoded X.509 certificate")
    try:
        return x509.load_pem_x509_certificate(pem.encode("utf-8"))
    except (ValueError, UnicodeEncodeError):
        raise PkiError("The certificate could not be parsed: it is not a valid PEM-encoded X.509 certificate") from None


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificate_id(cert: x509.Certificate) -> str:
    """AWS IoT's certificate id: the SHA-256 of the DER encoding, lowercase hex (64 characters)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and signed_by(cert, cert)


def signed_by(cert: x509.Certificate, issuer_cert: x509.Certificate) -> bool:
    """True when `issuer_cert` names `cert`'s issuer and its key made `cert`'s signature."""
    if cert.issuer != issuer_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer_cert)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def check_key_supported(public_key: object) -> None:
    """RSA of at least 2048 bits, or EC on P-256 / P-384; anything else raises PkiError naming what it got."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise PkiError(
                f"RSA keys must be at least {MIN_RSA_BITS} bits; the given key has {public_key.key_size} bits"
            )
        return
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in SUPPORTED_CURVES:
            raise PkiError(
                f"Elliptic curve {public_key.curve.name} is not supported; use P-256 (secp256r1) or P-384 (secp384r1)"
            )
        return
    raise PkiError(
        f"{describe_key_type(public_key)} keys are not supported; use RSA (2048 bits or more) or EC P-256/P-384"
    )


def describe_key_type(public_key: object) -> str:
    """A short human name for a key's algorithm (`Ed25519`, `DSA`, ...) for error messages."""
    name = type(public_key).__name__
    for suffix in ("PublicKey", "PrivateKey"):
        name = name.removesuffix(suffix)
    return name.lstrip("_") or "Unknown"


def public_key_of(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    """The certificate's public key; PkiError for an algorithm the library cannot load."""
    try:
        return cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        raise PkiError("The certificate's public key uses an unsupported algorithm") from None


def public_key_der(public_key: CertificatePublicKeyTypes) -> bytes:
    """The SubjectPublicKeyInfo bytes: compares keys of any type."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
