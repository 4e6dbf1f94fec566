"""Chain verification for client (device) certificates, with cryptography's RFC 5280 path builder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.x509 import verification

from edgeward.pki.errors import PkiError

MAX_CHAIN_DEPTH = 8


def verify_client_chain(
    leaf: x509.Certificate,
    roots: Sequence[x509.Certificate],
    *,
    now: datetime,
    intermediates: Sequence[x509.Certificate] = (),
) -> None:
    """Raise PkiError unless `leaf` chains to one of `roots` (through `intermediates`) and is valid at `now`.

    The profile is the Web PKI one, relaxed where device fleets differ from web servers: a device certificate
    need not carry a subjectAltName (certificates made with `openssl req` rarely do), and a CA certificate made
    by an operator need not carry keyUsage. Signature algorithms, basicConstraints, validity and clientAuth
    (when extendedKeyUsage is present) are still enforced.
    """
    if not roots:
        raise PkiError("No trusted CA certificate to verify the certificate against")
    check_validity(leaf, now)
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store(list(roots)))
        .time(now)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(ca_policy=_ca_policy(), ee_policy=_ee_policy())
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, list(intermediates))
    except verification.VerificationError as exc:
        raise PkiError(f"The certificate is not signed by a trusted CA: {exc}") from None


def check_validity(cert: x509.Certificate, now: datetime) -> None:
    """PkiError when `now` is outside the certificate's validity period."""
    if now < cert.not_valid_before_utc:
        raise PkiError(f"The certificate is not valid before {cert.not_valid_before_utc.isoformat()}")
    if now > cert.not_valid_after_utc:
        raise PkiError(f"The certificate expired on {cert.not_valid_after_utc.isoformat()}")


def _ee_policy() -> verification.ExtensionPolicy:
    return verification.ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
    )


def _ca_policy() -> verification.ExtensionPolicy:
    return verification.ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.KeyUsage, verification.Criticality.AGNOSTIC, _ca_may_sign
    )


def _ca_may_sign(policy: verification.Policy, cert: x509.Certificate, usage: x509.KeyUsage | None) -> None:
    """A CA without keyUsage may sign; one with keyUsage must have keyCertSign."""
    if usage is not None and not usage.key_cert_sign:
        raise ValueError("the CA certificate's keyUsage does not include keyCertSign")
