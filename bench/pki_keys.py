"""What a device certificate costs edgeward's CA: RSA-2048 key generation, device-certificate signing, CSR
verification + signing.

    python bench/pki_keys.py [--keys 40] [--certs 2000] [--repeat 3]

Each operation is timed on the process CPU clock (`time.process_time`, so load from other processes does not
count), in batches; the best of `--repeat` runs is kept. Signing is shown with edgeward's issuing key (EC
P-256) and, for comparison, with an RSA-2048 issuing key: the reason the CA uses P-256.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from edgeward.pki.authority import CertificateAuthority, create_issuing, create_root
from edgeward.pki.csr import load_csr
from edgeward.pki.issue import issue_device_certificate
from edgeward.pki.keys import generate_rsa_key
from edgeward.pki.pem import certificate_pem

NOW = datetime.now(UTC)


def cpu_seconds_per_op(operation: Callable[[], object], count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(count):
            operation()
        best = min(best, (time.process_time() - start) / count)
    return best


def key_generation_ms(count: int, repeat: int) -> tuple[float, float]:
    """Median and spread (p90) of single key generations: RSA prime search varies a lot from key to key."""
    samples = []
    for _ in range(count * repeat):
        start = time.process_time()
        generate_rsa_key()
        samples.append((time.process_time() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)]


def rsa_issuing(root: CertificateAuthority) -> CertificateAuthority:
    """The same issuing CA with an RSA-2048 key, for the comparison only."""
    key = generate_rsa_key()
    ec_issuing = create_issuing(root, "bench issuing", now=NOW)
    cert = (
        x509.CertificateBuilder()
        .subject_name(ec_issuing.certificate.subject)
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ec_issuing.certificate.not_valid_before_utc)
        .not_valid_after(ec_issuing.certificate.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return CertificateAuthority(cert, key)


def device_csr(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-device")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=40, help="RSA keys generated per run")
    parser.add_argument("--certs", type=int, default=2000, help="certificates signed per run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    root = create_root("bench root", now=NOW)
    issuing = create_issuing(root, "bench issuing", now=NOW)
    rsa_ca = rsa_issuing(root)
    device_key = generate_rsa_key()
    public = device_key.public_key()
    csr_pem = device_csr(device_key)

    median_ms, p90_ms = key_generation_ms(args.keys, args.repeat)
    sign_ec = cpu_seconds_per_op(lambda: issue_device_certificate(issuing, public, now=NOW), args.certs, args.repeat)
    sign_rsa = cpu_seconds_per_op(lambda: issue_device_certificate(rsa_ca, public, now=NOW), args.certs, args.repeat)
    csr_ec = cpu_seconds_per_op(
        lambda: certificate_pem(issue_device_certificate(issuing, load_csr(csr_pem).public_key(), now=NOW)),
        args.certs,
        args.repeat,
    )

    print("edgeward CA (CPU time per operation, best of runs, one core)")
    print(f"  RSA-2048 key generation        {median_ms:8.1f} ms/key median, {p90_ms:.1f} ms p90")
    print(f"  device cert, P-256 issuing key {1 / sign_ec:8.0f} certs/s ({sign_ec * 1e6:.0f} µs)")
    print(f"  device cert, RSA-2048 issuer   {1 / sign_rsa:8.0f} certs/s ({sign_rsa * 1e6:.0f} µs)  [comparison]")
    print(f"  CSR verify + sign + PEM        {1 / csr_ec:8.0f} CSRs/s ({csr_ec * 1e6:.0f} µs)")
    print(f"  P-256 vs RSA-2048 issuer       {sign_rsa / sign_ec:8.1f}x faster signing")


if __name__ == "__main__":
    main()
