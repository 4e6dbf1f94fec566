"""`edgeward-agent setup --certificates bundle.zip`: install a DeepLens-style certificate bundle as it is.

The zip (format in docs/deeplens-bundle.md) is read in place, never extracted by its own member names: only
the files `config/config.json` names are read, and they are written under fixed names in the agent's
directory. Before anything is written the bundle must hold together: the configuration is complete, the
private key belongs to the certificate, and the certificate chains to the CA in the bundle. Installing again
(a new bundle after registering again) replaces the files, as uploading the right zip did on a DeepLens.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification

from edgeward.agent.config import AgentConfig, ConfigError

FORMAT = "edgeward-deeplens-bundle/1"
REQUIRED = (
    "deviceName",
    "thingName",
    "region",
    "apiEndpoint",
    "credentialsEndpoint",
    "roleAlias",
    "deviceFleetName",
    "sageMakerDeviceName",
)
FILES = ("certificate", "privateKey", "rootCa")
MAX_MEMBER_BYTES = 1024 * 1024  # a certificate bundle is a few kilobytes


class SetupError(ConfigError):
    """The bundle cannot be installed; the message says what is wrong with it. (A configuration error: the
    agent's command line reports it like one.)"""


@dataclass(frozen=True)
class Bundle:
    config: dict[str, Any]
    certificate_pem: bytes
    private_key_pem: bytes
    ca_pem: bytes


def read_bundle(path: Path) -> Bundle:
    try:
        with zipfile.ZipFile(path) as archive:
            config = _config(archive)
            files = config["files"]
            parts = [_member(archive, str(files[key])) for key in FILES]
    except FileNotFoundError:
        raise SetupError(f"no such file: {path}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise SetupError(f"{path} is not a certificate bundle (.zip): {exc}") from None
    bundle = Bundle(config, *parts)
    verify(bundle)
    return bundle


def _config(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        config = json.loads(_member(archive, "config/config.json"))
    except ValueError as exc:
        raise SetupError(f"config/config.json is not JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise SetupError(f"config/config.json is not an {FORMAT} configuration")
    missing = [key for key in REQUIRED if not isinstance(config.get(key), str) or not config[key]]
    files = config.get("files")
    if not isinstance(files, dict):
        missing.append("files")
    else:
        missing += [f"files.{key}" for key in FILES if not isinstance(files.get(key), str) or not files[key]]
    if missing:
        raise SetupError(f"config/config.json lacks {', '.join(missing)}")
    return config


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise SetupError(f"the bundle has no {name}") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise SetupError(f"{name} in the bundle is too large to be a certificate file")
    return archive.read(info)


def verify(bundle: Bundle, now: datetime | None = None) -> None:
    """The key belongs to the certificate, and the certificate chains to the bundle's CA."""
    try:
        leaf = x509.load_pem_x509_certificate(bundle.certificate_pem)
        key = serialization.load_pem_private_key(bundle.private_key_pem, password=None)
        authorities = x509.load_pem_x509_certificates(bundle.ca_pem)
    except ValueError as exc:
        raise SetupError(f"the bundle's certificate, key or CA is not readable PEM: {exc}") from None
    if _spki(key.public_key()) != _spki(leaf.public_key()):
        raise SetupError("the private key in the bundle does not belong to its certificate")
    roots = [cert for cert in authorities if cert.issuer == cert.subject]
    intermediates = [cert for cert in authorities if cert.issuer != cert.subject]
    if not roots:
        raise SetupError("the bundle's root CA file holds no root (self-signed) certificate")
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store(roots))
        .time(now or datetime.now(UTC))
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, intermediates)
    except verification.VerificationError as exc:
        raise SetupError(f"the certificate does not chain to the CA in the bundle: {exc}") from None


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def install(
    bundle: Bundle,
    directory: Path,
    config_path: Path,
    *,
    endpoint: str | None = None,
    api_endpoint: str | None = None,
) -> AgentConfig:
    """Write the certificate, key (0600) and CA into `directory` and the agent configuration to `config_path`."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    certificate, private_key, ca = (directory / name for name in ("device.pem.crt", "device.pem.key", "root.ca.pem"))
    _replace(certificate, bundle.certificate_pem, 0o644)
    _replace(private_key, bundle.private_key_pem, 0o600)
    _replace(ca, bundle.ca_pem, 0o644)
    settings = bundle.config
    config = AgentConfig(
        certificate=certificate.resolve(),
        private_key=private_key.resolve(),
        ca=ca.resolve(),
        endpoint=endpoint or settings["credentialsEndpoint"],
        role_alias=settings["roleAlias"],
        thing_name=settings["thingName"],
        api_endpoint=api_endpoint or settings["apiEndpoint"],
        region=settings["region"],
        device_name=settings["sageMakerDeviceName"],
        device_fleet_name=settings["deviceFleetName"],
    )
    config.save(config_path)
    return config


def _replace(path: Path, data: bytes, mode: int) -> None:
    """Write atomically with `mode` from the first byte (the key is never readable by others, even briefly)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
