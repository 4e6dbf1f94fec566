"""Root and issuing CA certificates: the extensions path validation needs, and the chain between them."""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from edgeward.pki.authority import CertificateAuthority
from edgeward.pki.pem import is_self_signed, signed_by
from tests.unit.pki.conftest import NOW


def test_root_is_a_self_signed_p256_ca(root: CertificateAuthority) -> None:
    cert = root.certificate
    assert is_self_signed(cert)
    assert isinstance(root.key, ec.EllipticCurvePrivateKey) and root.key.curve.name == "secp256r1"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert cert.not_valid_after_utc - NOW > timedelta(days=29 * 365)
    assert root.certificate_pem().startswith("-----BEGIN CERTIFICATE-----\n")


def test_issuing_ca_is_signed_by_the_root_and_limited_to_end_entities(
    root: CertificateAuthority, issuing: CertificateAuthority
) -> None:
    cert = issuing.certificate
    assert signed_by(cert, root.certificate)
    assert not is_self_signed(cert)
    assert not signed_by(root.certificate, cert)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == root.subject_key_identifier.key_identifier
    assert cert.not_valid_after_utc < root.certificate.not_valid_after_utc
    assert cert.not_valid_before_utc <= NOW


def test_each_authority_has_its_own_key_and_serial(root: CertificateAuthority, issuing: CertificateAuthority) -> None:
    assert root.certificate.serial_number != issuing.certificate.serial_number
    assert root.subject_key_identifier != issuing.subject_key_identifier
