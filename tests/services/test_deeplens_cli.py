"""`edgeward deeplens ...` against a running server's database: register writes the bundle (0600) and leaves no
key behind, list/describe show the statuses, errors and denials come back in AWS's words with no file written."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.mtls import Provider, start_provider
from tests.services.deeplens_support import (
    EDGEWARD,
    bundle_files,
    create_roles,
    database_url,
    make_user,
    run,
    unique,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    for running in start_provider(tmp_path_factory, request.param):
        create_roles(running)
        yield running


def deeplens(provider: Provider, *args: str, check: bool = True) -> tuple[int, str, str]:
    """`edgeward deeplens ARGS` pointed at the provider's database, key-encryption key and ports."""
    server = provider.server
    where = (
        ["--database-url", database_url(provider), "--kek-file", str(server.data_dir / "kek")]
        if server.backend == "postgres"
        else ["--data-dir", str(server.data_dir)]
    )
    port = str(urlsplit(server.endpoint).port)
    command = [*EDGEWARD, "deeplens", *args, *where, "--port", port, "--mtls-port", str(provider.mtls_port)]
    done = run(command, check=check)
    return done.returncode, done.stdout, done.stderr


def test_register_list_download_once_deregister(provider: Provider, tmp_path: Path) -> None:
    name = unique("cli-cam")
    out = tmp_path / "bundle.zip"
    _, stdout, _ = deeplens(provider, "register", name, "--out", str(out))
    assert f"registered {name}" in stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    config = json.loads(bundle_files(out.read_bytes())["config/config.json"])
    assert config["deviceName"] == name
    assert config["credentialsEndpoint"] == provider.endpoint()
    assert config["apiEndpoint"] == provider.server.endpoint

    _, listing, _ = deeplens(provider, "list")
    assert any(line.startswith(name) and "Awaiting credentials" in line for line in listing.splitlines())
    _, described, _ = deeplens(provider, "describe", name)
    assert json.loads(described)["CertificateBundleAvailable"] is False  # register downloaded it at once

    again = tmp_path / "again.zip"
    code, _, stderr = deeplens(provider, "download", name, "--out", str(again), check=False)
    assert code == 1 and "ConflictException" in stderr and "downloaded already" in stderr
    assert not again.exists()
    code, _, stderr = deeplens(provider, "register", name, "--out", str(again), check=False)
    assert code == 1 and "ResourceAlreadyExistsException" in stderr
    assert not again.exists()

    _, stdout, _ = deeplens(provider, "deregister", name)
    assert "revoked" in stdout
    _, listed, _ = deeplens(provider, "list", "--json")
    assert name not in {device["DeviceName"] for device in json.loads(listed)}


def test_bad_names_and_denials(provider: Provider, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    code, _, stderr = deeplens(provider, "register", "not_valid", "--out", str(out), check=False)
    assert code == 1 and "ValidationException" in stderr and "dashes" in stderr
    user = make_user(provider, ["deeplens:RegisterDevice"])
    name = unique("cam")
    code, _, stderr = deeplens(provider, "register", name, "--out", str(out), "--as-user", user, check=False)
    assert code == 1 and "AccessDeniedException" in stderr
    assert f"user/{user} is not authorized to perform: iam:PassRole" in stderr
    assert not out.exists()
    code, _, stderr = deeplens(provider, "register", name, "--out", str(out), "--role", "Bogus=x", check=False)
    assert code == 1 and "Unknown role kind Bogus" in stderr
