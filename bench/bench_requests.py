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
SIGNED_PER_READ = 64  # distinct signed requests every wrk thread cycles through on a read
KEYS_PER_USER = 2  # IAM's quota
# wrk sets Content-Length from the body; Host is set from the URL below (botocore's prepared request may carry
# its own lower-case `host` too, and two Host headers would no longer match the signature).
DROPPED_HEADERS = frozenset({"content-length", "host"})
_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)

Params = dict[str, Any]


@dataclass(frozen=True)
class Fixture:
    """Access keys of dedicated users, one per connection: (user name, access key id) pairs."""

    keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Workload:
    """`groups` gives the parameters of the requests to sign: one list for every wrk thread to cycle through,
    or (`per_connection`) one list for each connection, which then has a wrk thread of its own."""

    name: str
    kind: str  # "read" or "write"
    service: str
    operation: str  # boto3 method name
    target: float  # edgeward req/s must be at least this times MiniStack's
    groups: Callable[[Fixture], list[list[Params]]]
    per_connection: bool = False


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _caller_identity(_fixture: Fixture) -> list[list[Params]]:
    return [[{} for _ in range(SIGNED_PER_READ)]]


def _get_user(fixture: Fixture) -> list[list[Params]]:
    return [[{"UserName": fixture.keys[i % len(fixture.keys)][0]} for i in range(SIGNED_PER_READ)]]


def _flip_keys(fixture: Fixture) -> list[list[Params]]:
    """Each connection flips its own key Inactive, Active, Inactive, ...: every request changes a row."""
    return [
        [{"UserName": user, "AccessKeyId": key, "Status": status} for status in ("Inactive", "Active")]
        for user, key in fixture.keys
    ]


WRITE_NAME = "write iam:UpdateAccessKey (flip own key)"
WRITE_DESCRIPTION = (
    "write = iam:UpdateAccessKey: each connection has an access key of its own (users bench-writer-N) and sets it "
    "Inactive, Active, Inactive, ... so that every request changes a stored row."
)
WORKLOADS: tuple[Workload, ...] = (
    Workload("read  sts:GetCallerIdentity", "read", "sts", "get_caller_identity", 2.0, _caller_identity),
    Workload("read  iam:GetUser", "read", "iam", "get_user", 2.0, _get_user),
    Workload(WRITE_NAME, "write", "iam", "update_access_key", 1.0, _flip_keys, per_connection=True),
)


def client(server: Server, service: str, read_timeout: float = 30) -> Any:
    """A boto3 client of `server` with its credentials: no retries (a bench counts failures)."""
    creds = server.credentials
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        config=_CONFIG.merge(Config(read_timeout=read_timeout)),
    )


def create_fixture(server: Server, connections: int) -> Fixture:
    """Users bench-writer-N with two access keys each, one key per connection, made with boto3."""
    iam = client(server, "iam")
    keys: list[tuple[str, str]] = []
    for i in range(-(-connections // KEYS_PER_USER)):
        name = f"bench-writer-{i}"
        iam.create_user(UserName=name)
        for _ in range(KEYS_PER_USER):
            keys.append((name, iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]))
    return Fixture(tuple(keys[:connections]))


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


def _sign_one(client: Any, operation: str, params: Params) -> SignedRequest:
    try:
        getattr(client, operation)(**params)
    except _Captured as captured:
        return _to_signed(captured.request)
    raise RuntimeError(f"{operation}: boto3 sent the request instead of handing it over")


def sign(server: Server, workload: Workload, fixture: Fixture) -> list[list[SignedRequest]]:
    """The workload's requests, built and signed by botocore just as boto3 sends them (valid for 15 minutes)."""
    api = client(server, workload.service)
    api.meta.events.register_first("before-send", _capture)
    return [[_sign_one(api, workload.operation, p) for p in group] for group in workload.groups(fixture)]


def prepare(server: Server, workload: Workload, fixture: Fixture) -> None:
    """Send the last request of every group for real through boto3: a broken workload fails loudly before wrk
    runs, and every key of the write is Active, so the first request of each connection changes it too."""
    api = client(server, workload.service)
    for group in workload.groups(fixture):
        getattr(api, workload.operation)(**group[-1])
