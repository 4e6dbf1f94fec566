"""Enrolment with a CSR: the private key is generated here, on the device, and never leaves it.

The CSR goes to whoever provisions the device (`aws iot create-certificate-from-csr`, or `edgeward-agent
enrol --endpoint ...` with an operator's credentials); the certificate that comes back joins the key here.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def generate_key(kind: str = "ec") -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"key type must be 'ec' (P-256) or 'rsa' (2048 bits), not {kind!r}")


def build_csr(key: PrivateKey, common_name: str) -> x509.CertificateSigningRequest:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())


def write_private_key(path: Path, key: PrivateKey) -> None:
    """PEM, mode 0600 from the moment it exists; refuses to overwrite a key already there."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def enrol(key_path: Path, csr_path: Path, common_name: str, kind: str = "ec") -> str:
    """Make the key and the CSR; returns the CSR's PEM (also written to `csr_path`)."""
    key = generate_key(kind)
    write_private_key(key_path, key)
    pem = build_csr(key, common_name).public_bytes(serialization.Encoding.PEM).decode()
    csr_path.write_text(pem)
    return pem
