"""CSRs: accepted ones sign into verifiable certificates; every refusal is a PkiError saying why."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from edgeward.pki.authority import CertificateAuthority
from edgeward.pki.csr import load_csr
from edgeward.pki.errors import PkiError
from edgeward.pki.issue import issue_device_certificate
from edgeward.pki.verify import verify_client_chain
from tests.unit.pki.conftest import NOW


def make_csr(key: CertificateIssuerPrivateKeyTypes, algorithm: hashes.SHA256 | None = None) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sample-device")])
    )
    csr = builder.sign(key, algorithm)
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.mark.parametrize(
    "key",
    [rsa_key(), rsa_key(3072), ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP384R1())],
    ids=["rsa2048", "rsa3072", "p256", "p384"],
)
def test_supported_csr_signs_into_a_verifiable_certificate(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, root: CertificateAuthority, issuing: CertificateAuthority
) -> None:
    csr = load_csr(make_csr(key, hashes.SHA256()))
    cert = issue_device_certificate(issuing, csr.public_key(), now=NOW)
    verify_client_chain(cert, [root.certificate], now=NOW, intermediates=[issuing.certificate])


def test_the_legacy_new_certificate_request_header_is_accepted() -> None:
    pem = make_csr(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    legacy = pem.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
    assert load_csr(legacy).subject == load_csr(pem).subject


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a csr",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        "-----BEGIN CERTIFICATE REQUEST-----\n\u00e9\u00e9\n-----END CERTIFICATE REQUEST-----\n",
    ],
)
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(PkiError, match="certificate signing request"):
        load_csr(text)


def test_a_certificate_is_not_a_csr(issuing: CertificateAuthority) -> None:
    with pytest.raises(PkiError, match="not a PEM-encoded PKCS#10"):
        load_csr(issuing.certificate_pem())


def test_tampered_csr_signature_is_refused() -> None:
    csr = x509.load_pem_x509_csr(make_csr(rsa_key(), hashes.SHA256()).encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte belongs to the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(PkiError, match="signature is not valid"):
        load_csr(tampered)


def test_csr_with_another_keys_signature_is_refused() -> None:
    """The subject and key of one request, the signature of another key."""
    mine, other = rsa_key(), rsa_key()
    good = x509.load_pem_x509_csr(make_csr(mine, hashes.SHA256()).encode())
    forged = x509.load_pem_x509_csr(make_csr(other, hashes.SHA256()).encode())
    forged_der = forged.public_bytes(serialization.Encoding.DER)
    # Same subject and key size, so the request infos have the same length and the DER stays well-formed.
    spliced = forged_der.replace(forged.tbs_certrequest_bytes, good.tbs_certrequest_bytes)
    assert spliced != forged_der
    pem = x509.load_der_x509_csr(spliced).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(PkiError, match="signature is not valid"):
        load_csr(pem)


def test_rsa_1024_is_refused_with_its_size() -> None:
    with pytest.raises(PkiError, match="at least 2048 bits; the given key has 1024 bits"):
        load_csr(make_csr(rsa_key(1024), hashes.SHA256()))


@pytest.mark.parametrize("curve", [ec.SECP521R1(), ec.SECP256K1()], ids=["p521", "secp256k1"])
def test_other_curves_are_refused_by_name(curve: ec.EllipticCurve) -> None:
    with pytest.raises(PkiError, match=f"Elliptic curve {curve.name} is not supported"):
        load_csr(make_csr(ec.generate_private_key(curve), hashes.SHA256()))


def test_ed25519_is_refused() -> None:
    with pytest.raises(PkiError, match="Ed25519 keys are not supported"):
        load_csr(make_csr(ed25519.Ed25519PrivateKey.generate()))
