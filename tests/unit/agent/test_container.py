"""The container-credentials endpoint, read by botocore's own container provider (what SDKs on a device use)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.credentials import ContainerProvider

from edgeward.agent.container import ContainerCredentialsServer
from edgeward.agent.credentials import Credentials
from edgeward.agent.refresh import CredentialSource


@pytest.fixture
def endpoint() -> Iterator[ContainerCredentialsServer]:
    expiry = datetime.now(UTC) + timedelta(hours=1)
    source = CredentialSource(lambda: Credentials("ASIADEVICE000001", "s3cret", "tok", expiry), None)
    server = ContainerCredentialsServer(source, token="letmein")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_botocore_reads_the_endpoint(endpoint: ContainerCredentialsServer) -> None:
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "letmein"}
    credentials = ContainerProvider(environ=env).load()
    assert credentials is not None
    frozen = credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("ASIADEVICE000001", "s3cret", "tok")


def test_wrong_token_is_refused(endpoint: ContainerCredentialsServer) -> None:
    request = urllib.request.Request(endpoint.uri, headers={"Authorization": "guess"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401


def test_only_loopback_is_served() -> None:
    source = CredentialSource(lambda: Credentials("a", "b", "c", datetime.now(UTC)), None)
    with pytest.raises(ValueError, match="loopback"):
        ContainerCredentialsServer(source, token="t", host="0.0.0.0")
