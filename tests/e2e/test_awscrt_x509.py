"""AWS's own client of the credentials provider, unchanged: awscrt's X.509 credentials provider (the C
library behind the IoT device SDKs and Greengrass). It always connects to port 443 of the endpoint host, so
this test runs the listener on 443 with `--public-host localhost` (DescribeEndpoint then answers plain
`localhost`); it is skipped, saying why, where port 443 cannot be bound (not root, or taken).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.mtls import Device, Provider, make_device, start_provider

awscrt_io = pytest.importorskip("awscrt.io", reason="awscrt is not installed (pip install awscrt)")
awscrt_auth = pytest.importorskip("awscrt.auth")

PORT = 443
LOCK = Path("/tmp/edgeward-test-port-443.lock")


@contextlib.contextmanager
def port_443() -> Iterator[None]:
    """Port 443 is one per machine: tests of parallel workers take turns on it."""
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(("127.0.0.1", PORT))
        except PermissionError:
            pytest.skip(f"awscrt X.509 test skipped: binding port {PORT} needs root (running as uid {os.getuid()})")
        except OSError as exc:
            pytest.skip(f"awscrt X.509 test skipped: port {PORT} is not free ({exc.strerror})")
        yield


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with port_443():
        yield from start_provider(tmp_path_factory, "sqlite", "--public-host", "localhost", mtls_port=PORT)


@pytest.fixture(scope="module")
def device(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Device:
    return make_device(provider, tmp_path_factory.mktemp("device"))


def x509_provider(provider: Provider, device: Device, thing: str) -> object:
    endpoint = provider.endpoint()
    assert endpoint == "localhost"  # port 443 is implied, as at AWS
    elg = awscrt_io.EventLoopGroup(1)
    bootstrap = awscrt_io.ClientBootstrap(elg, awscrt_io.DefaultHostResolver(elg))
    options = awscrt_io.TlsContextOptions.create_client_with_mtls_from_path(str(device.cert_file), str(device.key_file))
    options.override_default_trust_store_from_path(None, str(provider.ca_file))
    return awscrt_auth.AwsCredentialsProvider.new_x509(
        endpoint=endpoint,
        thing_name=thing,
        role_alias=device.alias,
        tls_ctx=awscrt_io.ClientTlsContext(options),
        client_bootstrap=bootstrap,
    )


def test_awscrt_x509_provider_gets_working_credentials(provider: Provider, device: Device) -> None:
    credentials = x509_provider(provider, device, device.thing).get_credentials().result(timeout=30)  # type: ignore[attr-defined]
    assert credentials.access_key_id.startswith("ASIA")
    sts = provider.server.client(
        "sts", credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    arn = sts.get_caller_identity()["Arn"]
    assert arn == f"arn:aws:sts::{provider.account}:assumed-role/{device.role}/{device.certificate_id}"
    iot = provider.server.client(
        "iot", credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    assert iot.describe_thing(thingName=device.thing)["thingName"] == device.thing


def test_awscrt_x509_provider_reports_a_refusal(provider: Provider, device: Device) -> None:
    future = x509_provider(provider, device, "not-my-thing").get_credentials()  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017 - awscrt raises its own AwsCrtError on any non-200 answer
        future.result(timeout=30)
