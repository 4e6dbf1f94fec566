"""End-entity certificates: device (TLS client) certificates and edgeward's own TLS server certificates."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edgeward.pki.authority import BACKDATE, CertificateAuthority
from edgeward.pki.errors import PkiError
from edgeward.pki.pem import check_key_supported

DEVICE_COMMON_NAME = "AWS IoT Certificate"  # the subject AWS IoT puts in the certificates it issues
SERVER_VALIDITY = timedelta(days=397)  # the longest lifetime browsers and most TLS clients still accept
MAX_DEVICE_DAYS = 36500


def issue_device_certificate(
    issuer: CertificateAuthority,
    public_key: CertificatePublicKeyTypes,
    *,
    now: datetime,
    days: int = 3650,
    common_name: str = DEVICE_COMMON_NAME,
) -> x509.Certificate:
    """A TLS client certificate for a device key, valid from (about) `now` for `days` days.

    Standard verifiers (OpenSSL's X509_verify with purpose sslclient, cryptography's ClientVerifier) want a
    subjectAltName and the clientAuth usage; the SAN is a random `urn:uuid:` because the certificate's own
    id (a hash of its encoding) cannot be known before it is signed.
    """
    check_key_supported(public_key)
    if not 1 <= days <= MAX_DEVICE_DAYS:
        raise PkiError(f"A device certificate must be valid for 1 to {MAX_DEVICE_DAYS} days, not {days}")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    names = [x509.UniformResourceIdentifier(uuid.uuid4().urn)]
    builder = _end_entity(
        issuer, subject, public_key, now, timedelta(days=days), names, ExtendedKeyUsageOID.CLIENT_AUTH
    )
    return builder.sign(issuer.key, hashes.SHA256())


def issue_server_certificate(
    issuer: CertificateAuthority, public_key: CertificatePublicKeyTypes, hosts: Sequence[str], *, now: datetime
) -> x509.Certificate:
    """A TLS server certificate naming every host (DNS name or IP address, IPv6 with or without brackets)."""
    check_key_supported(public_key)
    names = [_general_name(host) for host in dict.fromkeys(hosts)]
    if not names:
        raise PkiError("A server certificate needs at least one host name or IP address")
    first = hosts[0].strip("[]")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, first[:64])])
    builder = _end_entity(issuer, subject, public_key, now, SERVER_VALIDITY, names, ExtendedKeyUsageOID.SERVER_AUTH)
    return builder.sign(issuer.key, hashes.SHA256())


def _general_name(host: str) -> x509.GeneralName:
    bare = host.strip().strip("[]")
    try:
        return x509.IPAddress(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if not bare or any(c.isspace() or c in "/:@" for c in bare):
        raise PkiError(f"{host!r} is neither a DNS name nor an IP address")
    return x509.DNSName(bare.lower())


def _end_entity(
    issuer: CertificateAuthority,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    now: datetime,
    validity: timedelta,
    names: Sequence[x509.GeneralName],
    purpose: x509.ObjectIdentifier,
) -> x509.CertificateBuilder:
    key_is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=key_is_rsa,  # RSA key exchange (TLS 1.2 without forward secrecy) needs it
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer.subject_key_identifier),
            critical=False,
        )
    )
