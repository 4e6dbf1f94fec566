"""`edgeward-agent setup` refuses a bundle that does not hold together, before writing anything: not a zip, an
incomplete configuration, a key of another certificate, a certificate of another CA. (The bundle a real server
issues is installed and used in test_deeplens.py.)"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgeward.agent.setup import FORMAT, SetupError, install, read_bundle
from edgeward.core import clock
from edgeward.pki.authority import CertificateAuthority, create_issuing, create_root
from edgeward.pki.issue import issue_device_certificate
from edgeward.pki.keys import generate_rsa_key, private_key_pem
from edgeward.pki.pem import certificate_pem
from tests.services.deeplens_support import agent


@dataclass
class Installation:
    root: CertificateAuthority
    issuing: CertificateAuthority

    @property
    def ca_pem(self) -> str:
        return self.root.certificate_pem() + self.issuing.certificate_pem()

    def device(self) -> tuple[str, str]:
        key = generate_rsa_key()
        cert = issue_device_certificate(self.issuing, key.public_key(), now=clock.now())
        return certificate_pem(cert), private_key_pem(key)


def installation() -> Installation:
    root = create_root("test root", now=clock.now())
    return Installation(root, create_issuing(root, "test issuing", now=clock.now()))


@pytest.fixture(scope="module")
def ours() -> Installation:
    return installation()


def config(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "format": FORMAT,
        "deviceName": "cam-1",
        "thingName": "cam-1",
        "region": "us-east-1",
        "apiEndpoint": "http://127.0.0.1:4566",
        "credentialsEndpoint": "127.0.0.1:8443",
        "roleAlias": "DeepLens-cam-1",
        "deviceFleetName": "deeplens",
        "sageMakerDeviceName": "cam-1",
        "files": {"certificate": "certs/device.pem.crt", "privateKey": "certs/device.pem.key", "rootCa": "certs/ca"},
    }
    base.update(changes)
    return base


def make_zip(path: Path, cert: str, key: str, ca: str, settings: dict[str, Any] | None = None) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config/config.json", json.dumps(settings or config()))
        archive.writestr("certs/device.pem.crt", cert)
        archive.writestr("certs/device.pem.key", key)
        archive.writestr("certs/ca", ca)
    path.write_bytes(buffer.getvalue())
    return path


def test_a_good_bundle_installs(ours: Installation, tmp_path: Path) -> None:
    cert, key = ours.device()
    bundle = read_bundle(make_zip(tmp_path / "b.zip", cert, key, ours.ca_pem))
    installed = install(bundle, tmp_path / "agent", tmp_path / "agent" / "config.json")
    assert stat.S_IMODE(installed.private_key.stat().st_mode) == 0o600
    assert installed.private_key.read_text() == key
    assert installed.role_alias == "DeepLens-cam-1" and installed.device_fleet_name == "deeplens"
    assert installed.credentials_url == "https://127.0.0.1:8443/role-aliases/DeepLens-cam-1/credentials"


def test_refusals(ours: Installation, tmp_path: Path) -> None:
    cert, key = ours.device()
    _, other_key = ours.device()
    theirs = installation()
    foreign_cert, foreign_key = theirs.device()
    cases = {
        "another certificate's key": (make_zip(tmp_path / "k.zip", cert, other_key, ours.ca_pem), "does not belong"),
        "another CA": (make_zip(tmp_path / "c.zip", foreign_cert, foreign_key, ours.ca_pem), "does not chain"),
        "incomplete": (
            make_zip(tmp_path / "i.zip", cert, key, ours.ca_pem, config(roleAlias="")),
            "lacks roleAlias",
        ),
        "other format": (make_zip(tmp_path / "f.zip", cert, key, ours.ca_pem, config(format="x")), "is not an"),
        "no CA": (make_zip(tmp_path / "n.zip", cert, key, ours.issuing.certificate_pem()), "no root"),
    }
    for what, (path, message) in cases.items():
        with pytest.raises(SetupError) as refused:
            read_bundle(path)
        assert message in str(refused.value), what


def test_the_command_refuses_without_writing(tmp_path: Path) -> None:
    not_a_zip = tmp_path / "bundle.zip"
    not_a_zip.write_text("hello")
    target = tmp_path / "agent" / "config.json"
    done = agent("setup", "--certificates", str(not_a_zip), "--config", str(target), check=False)
    assert done.returncode == 1
    assert "is not a certificate bundle" in done.stderr
    assert not target.parent.exists()
