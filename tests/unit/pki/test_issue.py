"""Device and server certificates: accepted by `openssl verify -CAfile ca.pem` with the leaf alone, and by
cryptography's verifier; the extensions standard verifiers look for."""

from __future__ import annotations

import ipaddress
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edgeward.pki.authority import CertificateAuthority
from edgeward.pki.errors import PkiError
from edgeward.pki.issue import issue_device_certificate, issue_server_certificate
from edgeward.pki.keys import generate_rsa_key
from edgeward.pki.pem import certificate_id, certificate_pem
from edgeward.pki.verify import verify_client_chain
from tests.unit.pki.conftest import NOW


def openssl_verify(ca_file: Path, leaf: x509.Certificate, *options: str) -> subprocess.CompletedProcess[str]:
    leaf_file = ca_file.with_name(f"leaf-{certificate_id(leaf)[:12]}.pem")
    leaf_file.write_text(certificate_pem(leaf))
    # -attime: the certificates are made for a fixed NOW so the test does not depend on the wall clock.
    args = ["openssl", "verify", "-attime", str(int(NOW.timestamp())), "-CAfile", str(ca_file), *options]
    return subprocess.run([*args, str(leaf_file)], capture_output=True, text=True, check=False)


def test_device_certificate_passes_openssl_verify_with_the_ca_bundle_alone(
    ca_file: Path, issuing: CertificateAuthority
) -> None:
    cert = issue_device_certificate(issuing, generate_rsa_key().public_key(), now=NOW)
    for options in ((), ("-purpose", "sslclient"), ("-x509_strict", "-purpose", "sslclient")):
        result = openssl_verify(ca_file, cert, *options)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip().endswith(": OK")


def test_device_certificate_is_refused_as_a_server_certificate(ca_file: Path, issuing: CertificateAuthority) -> None:
    cert = issue_device_certificate(issuing, generate_rsa_key().public_key(), now=NOW)
    assert openssl_verify(ca_file, cert, "-purpose", "sslserver").returncode != 0


def test_device_certificate_passes_cryptographys_client_verifier(
    root: CertificateAuthority, issuing: CertificateAuthority
) -> None:
    cert = issue_device_certificate(issuing, generate_rsa_key().public_key(), now=NOW)
    verify_client_chain(cert, [root.certificate], now=NOW, intermediates=[issuing.certificate])
    # cryptography's stock Web PKI client profile too, not only edgeward's relaxed one.
    store = verification.Store([root.certificate])
    verifier = verification.PolicyBuilder().store(store).time(NOW).build_client_verifier()
    verified = verifier.verify(cert, [issuing.certificate])
    assert verified.chain[-1] == root.certificate


def test_device_certificate_extensions(issuing: CertificateAuthority) -> None:
    key = generate_rsa_key()
    cert = issue_device_certificate(issuing, key.public_key(), now=NOW, days=30)
    ext = cert.extensions
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "AWS IoT Certificate"
    assert cert.issuer == issuing.certificate.subject
    assert not ext.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ext.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    sans = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.UniformResourceIdentifier)[0].startswith("urn:uuid:")
    assert ext.get_extension_for_class(x509.SubjectKeyIdentifier).value == x509.SubjectKeyIdentifier.from_public_key(
        key.public_key()
    )
    assert (
        ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        == issuing.subject_key_identifier.key_identifier
    )
    assert cert.not_valid_after_utc == NOW + timedelta(days=30)
    assert cert.not_valid_before_utc <= NOW


def test_ec_device_key_gets_no_key_encipherment(issuing: CertificateAuthority) -> None:
    cert = issue_device_certificate(issuing, ec.generate_private_key(ec.SECP384R1()).public_key(), now=NOW)
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment


def test_every_certificate_is_distinct(issuing: CertificateAuthority) -> None:
    public = generate_rsa_key().public_key()
    first, second = (issue_device_certificate(issuing, public, now=NOW) for _ in range(2))
    assert first.serial_number != second.serial_number
    assert certificate_id(first) != certificate_id(second)
    assert len(certificate_id(first)) == 64 and certificate_id(first) == certificate_id(first).lower()


def test_device_certificate_refuses_unsupported_keys_and_lifetimes(issuing: CertificateAuthority) -> None:
    with pytest.raises(PkiError, match="Ed25519"):
        issue_device_certificate(issuing, ed25519.Ed25519PrivateKey.generate().public_key(), now=NOW)
    with pytest.raises(PkiError, match="1 to 36500 days"):
        issue_device_certificate(issuing, generate_rsa_key().public_key(), now=NOW, days=0)


def test_server_certificate_names_every_host_and_passes_openssl(ca_file: Path, issuing: CertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    hosts = ["Edge.Example.com", "localhost", "127.0.0.1", "[::1]", "localhost"]
    cert = issue_server_certificate(issuing, key.public_key(), hosts, now=NOW)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["edge.example.com", "localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    for options in (
        ("-purpose", "sslserver", "-x509_strict"),
        ("-verify_hostname", "edge.example.com"),
        ("-verify_ip", "::1"),
    ):
        result = openssl_verify(ca_file, cert, *options)
        assert result.returncode == 0, result.stdout + result.stderr
    assert openssl_verify(ca_file, cert, "-verify_hostname", "other.example.com").returncode != 0


def test_server_certificate_passes_cryptographys_server_verifier(
    root: CertificateAuthority, issuing: CertificateAuthority
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue_server_certificate(issuing, key.public_key(), ["localhost", "127.0.0.1"], now=NOW)
    store = verification.Store([root.certificate])
    for name in (x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))):
        verifier = verification.PolicyBuilder().store(store).time(NOW).build_server_verifier(name)
        verifier.verify(cert, [issuing.certificate])


@pytest.mark.parametrize("hosts", [[], ["not a host"], ["http://x"]])
def test_server_certificate_refuses_bad_hosts(issuing: CertificateAuthority, hosts: list[str]) -> None:
    with pytest.raises(PkiError):
        issue_server_certificate(issuing, ec.generate_private_key(ec.SECP256R1()).public_key(), hosts, now=NOW)
