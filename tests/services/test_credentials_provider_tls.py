"""The credentials provider's TLS side, with real handshakes: which client certificates get through the
handshake (edgeward's CA, registered CAs, certificates registered without a CA), which fail it (none,
unknown CA, expired), TLS 1.2 and 1.3, keep-alive and pipelining, bounded request heads.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.mtls import (
    Device,
    OutsideCa,
    Provider,
    client_context,
    curl,
    eventually,
    get,
    grant_alias,
    https_connection,
    leaf,
    make_device,
    outside_ca,
    start_provider,
)

# curl's exit codes for a refused handshake: SSL connect error; with TLS 1.3 the server's alert arrives after
# curl considers itself connected, so: failure receiving, or empty reply.
HANDSHAKE_FAILED = {35, 52, 56}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def device(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Device:
    return make_device(provider, tmp_path_factory.mktemp("device"))


@pytest.fixture(scope="module")
def registered_ca(provider: Provider) -> OutsideCa:
    """A CA of the customer's own, registered (SNI_ONLY: no proof of possession needed) and ACTIVE."""
    ca = outside_ca("Customer Device CA")
    provider.server.client("iot").register_ca_certificate(
        caCertificate=ca.pem, certificateMode="SNI_ONLY", setAsActive=True
    )
    return ca


def test_no_client_certificate_fails_the_handshake(provider: Provider, device: Device) -> None:
    result = curl(provider, provider.url(device.alias))
    assert result.exit_code in HANDSHAKE_FAILED, result
    assert result.status == 0


def test_certificate_of_an_unknown_ca_fails_the_handshake(provider: Provider, device: Device, tmp_path: Path) -> None:
    cert, key, _ = leaf(outside_ca("Nobody's CA"), tmp_path)
    result = curl(provider, provider.url(device.alias), cert=cert, key=key)
    assert result.exit_code in HANDSHAKE_FAILED, result


def test_expired_certificate_of_a_registered_ca_fails_the_handshake(
    provider: Provider, device: Device, registered_ca: OutsideCa, tmp_path: Path
) -> None:
    cert, key, _ = leaf(registered_ca, tmp_path, expired=True)
    result = eventually(lambda: curl(provider, provider.url(device.alias), cert=cert, key=key), attempts=1)
    assert result.exit_code in HANDSHAKE_FAILED, result


def test_certificate_of_a_registered_ca_needs_registering_itself(
    provider: Provider, device: Device, registered_ca: OutsideCa, tmp_path: Path
) -> None:
    cert, key, _ = leaf(registered_ca, tmp_path)
    url = provider.url(device.alias)
    # Trusted chain, but no such certificate in IoT: the handshake succeeds and the request is refused.
    refused = eventually(lambda: (r := curl(provider, url, cert=cert, key=key)).status == 403 and r)
    assert refused.json() == {"message": "Certificate is invalid on this endpoint"}
    iot = provider.server.client("iot")
    registered = iot.register_certificate(
        certificatePem=cert.read_text(), caCertificatePem=registered_ca.pem, status="ACTIVE"
    )
    grant_alias(provider, registered["certificateArn"], device.alias_arn)
    result = curl(provider, url, cert=cert, key=key)
    assert result.status == 200, result
    ca_id = iot.list_ca_certificates()["certificates"][0]["certificateId"]
    iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE")
    try:
        result = curl(provider, url, cert=cert, key=key)  # refused: 403 at once, handshake failure once re-read
        assert result.status == 403 or result.exit_code in HANDSHAKE_FAILED, result
    finally:
        iot.update_ca_certificate(certificateId=ca_id, newStatus="ACTIVE")


def test_certificate_registered_without_ca_is_trusted_by_exact_match(
    provider: Provider, device: Device, tmp_path: Path
) -> None:
    cert, key, _ = leaf(None, tmp_path, common_name="self-signed-device")
    url = provider.url(device.alias)
    assert curl(provider, url, cert=cert, key=key).exit_code in HANDSHAKE_FAILED
    iot = provider.server.client("iot")
    registered = iot.register_certificate_without_ca(certificatePem=cert.read_text(), status="ACTIVE")
    grant_alias(provider, registered["certificateArn"], device.alias_arn)
    result = eventually(lambda: (r := curl(provider, url, cert=cert, key=key)).status == 200 and r)
    assert result, "a certificate registered without a CA was not trusted"
    iot.update_certificate(certificateId=registered["certificateId"], newStatus="REVOKED")
    failed = eventually(lambda: curl(provider, url, cert=cert, key=key).exit_code in HANDSHAKE_FAILED)
    assert failed, "a revoked certificate registered without a CA is still trusted by the handshake"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3(provider: Provider, device: Device, version: ssl.TLSVersion) -> None:
    context = client_context(provider, device.cert_file, device.key_file, minimum=version, maximum=version)
    connection = https_connection(provider, context)
    try:
        status, body = get(connection, f"/role-aliases/{device.alias}/credentials")
        assert status == 200, body
        assert (
            connection.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        )
    finally:
        connection.close()


def test_keep_alive_serves_many_exchanges_on_one_connection(provider: Provider, device: Device) -> None:
    connection = https_connection(provider, client_context(provider, device.cert_file, device.key_file))
    try:
        status, _ = get(connection, f"/role-aliases/{device.alias}/credentials")
        sock = connection.sock
        keys = set()
        for _ in range(5):
            status, body = get(
                connection, f"/role-aliases/{device.alias}/credentials", {"x-amzn-iot-thingname": device.thing}
            )
            assert status == 200, body
            keys.add(body["credentials"]["accessKeyId"])
        assert connection.sock is sock and len(keys) == 5
    finally:
        connection.close()


def _raw_tls(provider: Provider, device: Device) -> ssl.SSLSocket:
    context = client_context(provider, device.cert_file, device.key_file)
    raw = socket.create_connection(("127.0.0.1", provider.mtls_port), timeout=15)
    return context.wrap_socket(raw, server_hostname="localhost")


def _read_until_closed(sock: ssl.SSLSocket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_pipelined_requests_are_answered_in_order(provider: Provider, device: Device) -> None:
    good = f"GET /role-aliases/{device.alias}/credentials HTTP/1.1\r\nHost: x\r\n\r\n"
    unknown = "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
    last = f"GET /role-aliases/{device.alias}/credentials HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with _raw_tls(provider, device) as sock:
        sock.sendall((good + unknown + last).encode())
        replies = _read_until_closed(sock)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", replies)
    assert statuses == [b"200", b"404", b"200"]


def test_oversized_request_head_is_refused(provider: Provider, device: Device) -> None:
    request = f"GET /role-aliases/{device.alias}/credentials HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 20000}\r\n\r\n"
    with _raw_tls(provider, device) as sock:
        sock.sendall(request.encode())
        reply = _read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 431 ")


def test_garbage_is_a_bad_request(provider: Provider, device: Device) -> None:
    with _raw_tls(provider, device) as sock:
        sock.sendall(b"\x00\x01 not http\r\n\r\n")
        reply = _read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 400 ")


def test_wrong_method_is_refused(provider: Provider, device: Device) -> None:
    result = curl(
        provider, provider.url(device.alias), cert=device.cert_file, key=device.key_file, extra=("-X", "POST")
    )
    assert result.status == 405
