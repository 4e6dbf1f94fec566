"""Chain verification failures: untrusted issuer, missing intermediate, validity window, CA misuse."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edgeward.pki.authority import CertificateAuthority, create_issuing, create_root
from edgeward.pki.errors import PkiError
from edgeward.pki.issue import issue_device_certificate
from edgeward.pki.keys import generate_rsa_key
from edgeward.pki.verify import check_validity, verify_client_chain
from tests.unit.pki.conftest import NOW


@pytest.fixture(scope="module")
def device(issuing: CertificateAuthority) -> x509.Certificate:
    return issue_device_certificate(issuing, generate_rsa_key().public_key(), now=NOW, days=365)


def test_chain_verifies_through_the_intermediate_or_with_it_as_a_trust_anchor(
    device: x509.Certificate, root: CertificateAuthority, issuing: CertificateAuthority
) -> None:
    verify_client_chain(device, [root.certificate], now=NOW, intermediates=[issuing.certificate])
    verify_client_chain(device, [issuing.certificate], now=NOW)  # a registered CA that is itself an intermediate


def test_missing_intermediate_fails(device: x509.Certificate, root: CertificateAuthority) -> None:
    with pytest.raises(PkiError, match="not signed by a trusted CA"):
        verify_client_chain(device, [root.certificate], now=NOW)


def test_another_installations_root_fails(device: x509.Certificate, issuing: CertificateAuthority) -> None:
    other_root = create_root("another root", now=NOW)
    other_issuing = create_issuing(other_root, "another issuing", now=NOW)
    with pytest.raises(PkiError, match="not signed by a trusted CA"):
        verify_client_chain(device, [other_root.certificate], now=NOW, intermediates=[issuing.certificate])
    with pytest.raises(PkiError, match="not signed by a trusted CA"):
        verify_client_chain(device, [other_issuing.certificate], now=NOW)


def test_no_roots_fails(device: x509.Certificate) -> None:
    with pytest.raises(PkiError, match="No trusted CA"):
        verify_client_chain(device, [], now=NOW)


def test_validity_window(device: x509.Certificate, root: CertificateAuthority, issuing: CertificateAuthority) -> None:
    check_validity(device, NOW)
    with pytest.raises(PkiError, match="expired on"):
        check_validity(device, NOW + timedelta(days=366))
    with pytest.raises(PkiError, match="not valid before"):
        check_validity(device, NOW - timedelta(days=1))
    with pytest.raises(PkiError, match="expired on"):
        verify_client_chain(device, [issuing.certificate], now=NOW + timedelta(days=366))


def test_an_end_entity_cannot_act_as_a_ca(root: CertificateAuthority, issuing: CertificateAuthority) -> None:
    """A device certificate (CA:FALSE) used to sign another certificate does not make a chain."""
    device_key = ec.generate_private_key(ec.SECP256R1())
    device = issue_device_certificate(issuing, device_key.public_key(), now=NOW)
    child_key = ec.generate_private_key(ec.SECP256R1())
    child = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "child")]))
        .issuer_name(device.subject)
        .public_key(child_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(device_key, hashes.SHA256())
    )
    with pytest.raises(PkiError, match="not signed by a trusted CA"):
        verify_client_chain(child, [root.certificate], now=NOW, intermediates=[issuing.certificate, device])


def test_operator_certificates_without_san_or_ca_key_usage_are_accepted() -> None:
    """What `openssl req -x509` and a plain client certificate look like: no keyUsage on the CA, no SAN."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "operator CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ca_ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = generate_rsa_key()
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device-1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    verify_client_chain(leaf, [ca], now=NOW)
