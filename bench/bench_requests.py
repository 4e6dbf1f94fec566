"""The workloads, their fixtures, and real boto3 requests, signed with SigV4 and captured before sending."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from bench_servers import Server
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config

REGION = "us-east-1"
BENCH_USERS = 4  # users bench-writer-0..3, one access key each
SIGNED_PER_WORKLOAD = 64  # distinct signed requests wrk cycles through
DROPPED_HEADERS = frozenset({"content-length"})  # wrk sets it from the body
_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@dataclass(frozen=True)
class Fixture:
    """What the write and the GetUser read work on: (user name, access key id) pairs."""

    keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # "read" or "write"
    service: str
    operation: str  # boto3 method name
    target: float  # edgeward req/s must be at least this times MiniStack's
    params: Callable[[Fixture, int], dict[str, Any]]


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _no_params(_fixture: Fixture, _i: int) -> dict[str, Any]:
    return {}


def _get_user(fixture: Fixture, i: int) -> dict[str, Any]:
    return {"UserName": fixture.keys[i % len(fixture.keys)][0]}


def _activate_key(fixture: Fixture, i: int) -> dict[str, Any]:
    user, key = fixture.keys[i % len(fixture.keys)]
    return {"UserName": user, "AccessKeyId": key, "Status": "Active"}


WORKLOADS: tuple[Workload, ...] = (
    Workload("read  sts:GetCallerIdentity", "read", "sts", "get_caller_identity", 2.0, _no_params),
    Workload("read  iam:GetUser", "read", "iam", "get_user", 2.0, _get_user),
    Workload("write iam:UpdateAccessKey (Status=Active)", "write", "iam", "update_access_key", 1.0, _activate_key),
)


def _client(server: Server, service: str) -> Any:
    creds = server.credentials
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        config=_CONFIG,
    )


def create_fixture(server: Server) -> Fixture:
    """Dedicated users with one access key each, made with boto3 on the server under test."""
    iam = _client(server, "iam")
    keys = []
    for i in range(BENCH_USERS):
        name = f"bench-writer-{i}"
        iam.create_user(UserName=name)
        keys.append((name, iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]))
    return Fixture(tuple(keys))


class _Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: AWSPreparedRequest, **_: Any) -> None:
    raise _Captured(request)


def _to_signed(prepared: AWSPreparedRequest) -> SignedRequest:
    url = urlsplit(prepared.url)
    headers = {"Host": url.netloc}
    for name, value in prepared.headers.items():
        if name.lower() not in DROPPED_HEADERS:
            headers[name] = value.decode() if isinstance(value, bytes) else str(value)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    path = url.path or "/"
    return SignedRequest(prepared.method, f"{path}?{url.query}" if url.query else path, headers, body)


def sign(server: Server, workload: Workload, fixture: Fixture, count: int = SIGNED_PER_WORKLOAD) -> list[SignedRequest]:
    """`count` requests built and signed by botocore just as boto3 sends them (valid for 15 minutes)."""
    client = _client(server, workload.service)
    client.meta.events.register_first("before-send", _capture)
    signed = []
    for i in range(count):
        try:
            getattr(client, workload.operation)(**workload.params(fixture, i))
        except _Captured as captured:
            signed.append(_to_signed(captured.request))
        else:
            raise RuntimeError(f"{workload.operation}: boto3 sent the request instead of handing it over")
    return signed


def check_once(server: Server, workload: Workload, fixture: Fixture) -> None:
    """One real call through boto3, so a broken workload fails loudly before wrk hammers it."""
    getattr(_client(server, workload.service), workload.operation)(**workload.params(fixture, 0))
