"""Which service and operation a wire request is for.

The service comes from the SigV4 credential scope (`signing_service`), refined where one signing name
covers two services (`sagemaker`: JSON 1.1 with `X-Amz-Target`, else the rest-json edge data plane).
Unsigned requests are STS/IAM when they carry `Action` and a known `Version`, SageMaker when they carry its
`X-Amz-Target`, and anonymous S3 otherwise. Then per protocol: `Action` (query), `X-Amz-Target` (json),
method + path + query matched against every operation's `requestUri` template (rest-json, rest-xml).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from urllib.parse import parse_qsl, quote, unquote

from edgeward.core.errors import ServiceError
from edgeward.protocol import catalog, faults
from edgeward.protocol.codec import Route
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.uritemplate import RestIndex

QUERY_VERSIONS = {"2010-05-08": "iam", "2011-06-15": "sts"}
_FORM = "application/x-www-form-urlencoded"
_AWS_BUCKET_HOST = re.compile(r"^(.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com$")
_S3_NO_ROUTE = "The specified method is not allowed against this resource."


class RouteError(Exception):
    """No operation for the request; `error` is to be answered in `service`'s protocol."""

    def __init__(self, service: str, error: ServiceError) -> None:
        super().__init__(f"{service}: {error.code}: {error.message}")
        self.service = service
        self.error = error


def resolve(request: HttpRequest, signing_service: str | None, *, bucket_from_host: str | None = None) -> Route:
    """The route of `request`, or RouteError.

    `bucket_from_host` is the bucket a virtual-hosted S3 request's Host named (see `bucket_from_host()`):
    the path is then read as `/<bucket><path>`.
    """
    service = _service(request, signing_service)
    protocol = catalog.protocol_of(service)
    if protocol == "query":
        return _query_route(service, request)
    if protocol == "json":
        return _json_route(service, request)
    raw_path = request.raw_path or "/"
    if bucket_from_host is not None and service == "s3":
        raw_path = "/" + quote(bucket_from_host, safe="") + raw_path
    return _rest_route(service, request, raw_path)


def bucket_from_host(host: str, base_hosts: Collection[str]) -> str | None:
    """The bucket a virtual-hosted-style `Host` names, or None for a path-style request.

    `<bucket>.s3.amazonaws.com`, `<bucket>.s3.<region>.amazonaws.com` (and the older `s3-<region>` and
    dual-stack forms) are always bucket hosts; otherwise `<bucket>.<base>` for each of `base_hosts` (the
    installation's own names, e.g. `localhost` and its public host names). The port does not matter. An IP
    address never names a bucket.
    """
    name = _host_name(host)
    if not name or name[0] == "[" or name.replace(".", "").isdigit():
        return None
    found = _AWS_BUCKET_HOST.match(name)
    if found:
        return found.group(1)
    for base in base_hosts:
        base = base.lower().rstrip(".")
        if base and name.endswith("." + base) and len(name) > len(base) + 1:
            return name[: -len(base) - 1]
    return None


def _host_name(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):  # IPv6 literal
        return host
    return host.rsplit(":", 1)[0] if ":" in host else host


def warm_up() -> None:
    """Compile every service's routing tables now rather than on its first request."""
    for service in catalog.SERVICES:
        _operations(service)
        if catalog.protocol_of(service).startswith("rest"):
            _rest_index(service)


# --- which service ---------------------------------------------------------------------------------------


def _service(request: HttpRequest, signing_service: str | None) -> str:
    if signing_service is None:
        return _unsigned_service(request)
    if signing_service == "sagemaker":
        return "sagemaker" if "x-amz-target" in request.headers else "sagemaker-edge"
    served = _served_by(signing_service)
    if len(served) == 1:
        return served[0]
    guess = _unsigned_service(request)
    raise RouteError(
        guess, faults.unknown_operation(guess, f"edgeward does not serve the service '{signing_service}'.")
    )


@cache
def _served_by(signing_service: str) -> tuple[str, ...]:
    return tuple(catalog.services_signing_as(signing_service))


def _unsigned_service(request: HttpRequest) -> str:
    if request.headers.get("x-amz-target", "").startswith(_json_prefix("sagemaker") + "."):
        return "sagemaker"
    params = _query_params(request)
    if "Action" in params:
        service = QUERY_VERSIONS.get(params.get("Version", ""))
        if service is not None:
            return service
        if request.method == "POST" or params["Action"] in _operations("sts"):
            return "sts"
    return "s3"


# --- query (IAM, STS) ------------------------------------------------------------------------------------


def _query_params(request: HttpRequest) -> dict[str, str]:
    """`Action` and the rest: from a form body (POST), else from the query string."""
    if request.method == "POST" and request.headers.get("content-type", _FORM).startswith(_FORM) and request.body:
        params: dict[str, str] = {}
        for key, value in parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True):
            params.setdefault(key, value)
        if "Action" in params:
            return params
    return request.query


def _query_route(service: str, request: HttpRequest) -> Route:
    params = _query_params(request)
    action = params.get("Action", "")
    if action in _operations(service):
        return Route(service, action)
    version = catalog.service_model(service).api_version
    detail = f"Could not find operation {action} for version {version}" if action else "Missing Action"
    raise RouteError(service, faults.unknown_operation(service, detail))


# --- json (SageMaker) ------------------------------------------------------------------------------------


@cache
def _json_prefix(service: str) -> str:
    return str(catalog.service_model(service).metadata.get("targetPrefix", ""))


def _json_route(service: str, request: HttpRequest) -> Route:
    target = request.headers.get("x-amz-target", "")
    prefix, _, operation = target.partition(".")
    if prefix == _json_prefix(service) and operation in _operations(service):
        return Route(service, operation)
    shown = target or "(no X-Amz-Target header)"
    raise RouteError(service, faults.unknown_operation(service, f"Could not find operation {shown}."))


# --- rest (IoT, sagemaker-edge, S3) ----------------------------------------------------------------------


@cache
def _operations(service: str) -> frozenset[str]:
    return frozenset(catalog.service_model(service).operation_names)


@cache
def _rest_index(service: str) -> RestIndex:
    return RestIndex(catalog.service_model(service))


def _rest_route(service: str, request: HttpRequest, raw_path: str) -> Route:
    found = _rest_index(service).find(request.method, raw_path, request.query, request.headers)
    if found is None:
        detail = _S3_NO_ROUTE if service == "s3" else f"No {service} operation matches {request.method} {raw_path}."
        raise RouteError(service, faults.unknown_operation(service, detail))
    operation, raw_labels = found
    try:
        labels = {name: unquote(value, errors="strict") for name, value in raw_labels.items()}
    except UnicodeDecodeError:
        error = faults.invalid_input(service, "The request path is not valid percent-encoded UTF-8.")
        raise RouteError(service, error) from None
    return Route(service, operation, labels)
