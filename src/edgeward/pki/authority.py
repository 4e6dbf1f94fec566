"""Root and issuing certificate authorities.

Both use EC P-256 keys with ECDSA-SHA256 signatures: signing a device certificate costs about a third of
what it costs with an RSA-2048 CA key (bench/pki_keys.py; certificates are issued on the request path), key
generation at first start is instant, the certificates are small, and every TLS stack device fleets use
(OpenSSL, mbedTLS, BoringSSL, Go, Java) verifies them; AWS's own Amazon Root CA 3 is P-256 too.
Device keys stay RSA-2048 by default, as AWS's CreateKeysAndCertificate hands out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from edgeward.pki.pem import certificate_pem

AuthorityKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

ORGANIZATION = "edgeward"
# The issuing CA expires before the root, and both outlive any device certificate issued in their first years.
ROOT_VALIDITY = timedelta(days=30 * 365)
ISSUING_VALIDITY = timedelta(days=25 * 365)
# Backdating covers clocks of other nodes and devices that run a little behind the issuing node's.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: AuthorityKey

    def certificate_pem(self) -> str:
        return certificate_pem(self.certificate)

    @property
    def subject_key_identifier(self) -> x509.SubjectKeyIdentifier:
        return self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def generate_authority_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def create_root(common_name: str, *, now: datetime) -> CertificateAuthority:
    """A self-signed root CA (any path length below it)."""
    key = generate_authority_key()
    name = authority_name(common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        _ca_builder(name, name, key.public_key(), now, ROOT_VALIDITY, path_length=None)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    return CertificateAuthority(builder.sign(key, hashes.SHA256()), key)


def create_issuing(root: CertificateAuthority, common_name: str, *, now: datetime) -> CertificateAuthority:
    """An intermediate CA signed by `root` that issues end-entity certificates only (path length 0)."""
    key = generate_authority_key()
    builder = (
        _ca_builder(authority_name(common_name), root.certificate.subject, key.public_key(), now, ISSUING_VALIDITY, 0)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root.subject_key_identifier),
            critical=False,
        )
    )
    return CertificateAuthority(builder.sign(root.key, hashes.SHA256()), key)


def authority_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    validity: timedelta,
    path_length: int | None,
) -> x509.CertificateBuilder:
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
    )
