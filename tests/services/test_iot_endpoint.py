"""IoT DescribeEndpoint through boto3 and the AWS CLI: seed 001's credentials-provider step, the configured public
host and ports, the legacy default, unknown types, and a caller without permission.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import RunningServer, free_port, start_server
from tests.services.test_iam_roles import error_of, limited_client, server_account


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, int]]:
    """A server that tells clients to use the public name `edge.example.test` and its own mTLS port."""
    mtls_port = free_port()
    data_dir = Path(tmp_path_factory.mktemp("edgeward-public")) / "data"
    running = start_server(data_dir, extra_args=["--public-host", "edge.example.test", "--mtls-port", str(mtls_port)])
    try:
        yield running, mtls_port
    finally:
        running.stop()


def test_seed_001_credential_provider_endpoint(public_server: tuple[RunningServer, int]) -> None:
    server, mtls_port = public_server
    iot = server.client("iot")
    address = iot.describe_endpoint(endpointType="iot:CredentialProvider")["endpointAddress"]
    assert address == f"edge.example.test:{mtls_port}"
    api_port = server.endpoint.rsplit(":", 1)[1]
    assert iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == f"edge.example.test:{api_port}"
    assert iot.describe_endpoint(endpointType="iot:Jobs")["endpointAddress"] == f"edge.example.test:{api_port}"
    # no type: the legacy iot:Data endpoint
    assert iot.describe_endpoint()["endpointAddress"] == f"edge.example.test:{api_port}"
    # stable: asked again, the same answer
    assert iot.describe_endpoint(endpointType="iot:CredentialProvider")["endpointAddress"] == address


def test_unknown_endpoint_type(public_server: tuple[RunningServer, int]) -> None:
    iot = public_server[0].client("iot")
    with pytest.raises(iot.exceptions.InvalidRequestException) as caught:
        iot.describe_endpoint(endpointType="iot:Nonsense")
    assert error_of(caught) == ("InvalidRequestException", "Endpoint type iot:Nonsense not recognized.", 400)


def test_describe_endpoint_with_the_aws_cli(public_server: tuple[RunningServer, int]) -> None:
    server, mtls_port = public_server
    done = subprocess.run(
        ["aws", "iot", "describe-endpoint", "--endpoint-type", "iot:CredentialProvider"],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"endpointAddress": f"edge.example.test:{mtls_port}"}


def test_describe_endpoint_needs_permission(server: RunningServer) -> None:
    limited = limited_client(server, "iot", "endpointless-user")
    account = server_account(server)
    with pytest.raises(ClientError) as caught:
        limited.describe_endpoint(endpointType="iot:CredentialProvider")
    code, message, status = error_of(caught)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (
        f"User: arn:aws:iam::{account}:user/endpointless-user is not authorized to perform: iot:DescribeEndpoint "
        "on resource: * because no identity-based policy allows the iot:DescribeEndpoint action"
    )
    host, port = server.endpoint.removeprefix("http://").rsplit(":", 1)
    assert server.client("iot").describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == f"{host}:{port}"
