"""PEM loading, AWS certificate ids, issuer checks and the key types edgeward accepts."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from edgeward.pki.authority import CertificateAuthority
from edgeward.pki.errors import PkiError
from edgeward.pki.pem import (
    certificate_id,
    certificate_pem,
    check_key_supported,
    is_self_signed,
    load_certificate,
    signed_by,
)


def test_round_trip_and_certificate_id(issuing: CertificateAuthority) -> None:
    pem = certificate_pem(issuing.certificate)
    assert load_certificate(pem) == issuing.certificate
    assert load_certificate("leading text\n" + pem + "trailing") == issuing.certificate
    der = issuing.certificate.public_bytes(serialization.Encoding.DER)
    assert certificate_id(issuing.certificate) == hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n\u2603\n-----END CERTIFICATE-----\n",
    ],
)
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(PkiError, match="certificate"):
        load_certificate(text)


def test_issuer_checks(root: CertificateAuthority, issuing: CertificateAuthority) -> None:
    assert is_self_signed(root.certificate) and not is_self_signed(issuing.certificate)
    assert signed_by(issuing.certificate, root.certificate)
    assert not signed_by(issuing.certificate, issuing.certificate)
    assert not signed_by(root.certificate, issuing.certificate)


def test_same_name_other_key_is_not_the_issuer(root: CertificateAuthority, issuing: CertificateAuthority) -> None:
    from edgeward.pki.authority import create_root
    from tests.unit.pki.conftest import NOW

    impostor = create_root("edgeward Root CA test", now=NOW)  # same subject as `root`, another key
    assert impostor.certificate.subject == root.certificate.subject
    assert not signed_by(issuing.certificate, impostor.certificate)


@pytest.mark.parametrize(
    "key",
    [
        rsa.generate_private_key(65537, 2048).public_key(),
        rsa.generate_private_key(65537, 4096).public_key(),
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        ec.generate_private_key(ec.SECP384R1()).public_key(),
    ],
    ids=["rsa2048", "rsa4096", "p256", "p384"],
)
def test_supported_keys(key: object) -> None:
    check_key_supported(key)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (rsa.generate_private_key(65537, 1024).public_key(), "has 1024 bits"),
        (ec.generate_private_key(ec.SECP521R1()).public_key(), "secp521r1 is not supported"),
        (ec.generate_private_key(ec.SECP256K1()).public_key(), "secp256k1 is not supported"),
        (ed25519.Ed25519PrivateKey.generate().public_key(), "Ed25519 keys are not supported"),
        (ed448.Ed448PrivateKey.generate().public_key(), "Ed448 keys are not supported"),
        (dsa.generate_private_key(2048).public_key(), "DSA keys are not supported"),
    ],
    ids=["rsa1024", "p521", "secp256k1", "ed25519", "ed448", "dsa"],
)
def test_unsupported_keys_are_named(key: object, message: str) -> None:
    with pytest.raises(PkiError, match=message):
        check_key_supported(key)
