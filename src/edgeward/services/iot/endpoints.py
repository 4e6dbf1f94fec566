"""IoT DescribeEndpoint: where devices and clients reach this installation.

The addresses come from the server configuration (`--public-host`, the API and mTLS ports): one stable
`host[:port]` per endpoint type, the port left out when it is 443, so a device's
`https://{endpointAddress}/role-aliases/{alias}/credentials` reaches edgeward's credentials listener.
Without `endpointType` IoT answers the legacy `iot:Data` endpoint.
"""

from __future__ import annotations

from typing import Any

from edgeward.services.context import Context
from edgeward.services.iot import errors

DEFAULT_ENDPOINT_TYPE = "iot:Data"
ENDPOINT_TYPES = ("iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs")


def describe_endpoint(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:DescribeEndpoint", "*")
    endpoint_type = params.get("endpointType") or DEFAULT_ENDPOINT_TYPE
    if endpoint_type not in ENDPOINT_TYPES:
        raise errors.invalid_request(f"Endpoint type {endpoint_type} not recognized.")
    address = ctx.endpoints.get(endpoint_type)
    if not address:
        raise errors.invalid_request(f"Endpoint type {endpoint_type} is not served by this installation.")
    return {"endpointAddress": address}


OPERATIONS = {"DescribeEndpoint": describe_endpoint}
