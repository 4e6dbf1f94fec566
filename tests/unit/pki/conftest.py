"""A root and issuing CA shared by the PKI tests, and helpers to write PEM files for openssl."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgeward.pki.authority import CertificateAuthority, create_issuing, create_root

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def root() -> CertificateAuthority:
    return create_root("edgeward Root CA test", now=NOW)


@pytest.fixture(scope="session")
def issuing(root: CertificateAuthority) -> CertificateAuthority:
    return create_issuing(root, "edgeward Issuing CA test", now=NOW)


@pytest.fixture
def ca_file(tmp_path: Path, root: CertificateAuthority, issuing: CertificateAuthority) -> Path:
    """What `<data-dir>/ca.pem` holds: root then issuing CA."""
    path = tmp_path / "ca.pem"
    path.write_text(root.certificate_pem() + issuing.certificate_pem())
    return path
