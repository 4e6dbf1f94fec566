"""Requests on the wire: a params dict serialized and signed the way botocore does it (without its client-side
validation), broken further at the byte level when asked, and sent over a plain socket with a deadline."""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.serialize import create_serializer

from edgeward.protocol.catalog import SERVICES, operation_model


@dataclass
class RawRequest:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]
    body: bytes


@dataclass
class Outcome:
    status: int | None  # None: no reply (connection closed, or the deadline passed)
    seconds: float
    timed_out: bool = False
    error: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def serialize(service: str, operation: str, params: dict[str, Any], endpoint: str) -> AWSRequest:
    model = operation_model(service, operation)
    serializer = create_serializer(model.metadata["protocol"], include_validation=False)
    request_dict = serializer.serialize_to_request(params, model)
    prepare_request_dict(request_dict, endpoint_url=endpoint)
    return create_request_object(request_dict)


def sign(request: AWSRequest, service: str, credentials: Credentials, region: str = "us-east-1") -> RawRequest:
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"):
        if name in request.headers:
            del request.headers[name]
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(credentials, SERVICES[service], region).add_auth(request)
    prepared = request.prepare()
    parsed = urllib.parse.urlsplit(prepared.url)
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    return RawRequest(prepared.method, target or "/", dict(prepared.headers.items()), body)


def with_body(request: AWSRequest, body: bytes) -> AWSRequest:
    """The same request carrying `body` (signed afterwards, so the server must read what it says)."""
    request.data = body
    request.headers["Content-Length"] = str(len(body))
    return request


# -- byte-level breakage of a serialized body -------------------------------------------------------------

WRONG_JSON: tuple[Any, ...] = (1, -1, 1.5, True, None, "x", [], {}, [1, [2]], {"a": {"b": 1}}, 1e308, 10**30)


def mutate_json(body: bytes, rng: random.Random) -> bytes:
    """A JSON body with one node replaced by a value of another type (or the whole body so)."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return body
    nodes = list(_json_nodes(document))
    if not nodes or rng.random() < 0.1:
        return json.dumps(rng.choice(WRONG_JSON)).encode()
    parent, key = rng.choice(nodes)
    parent[key] = rng.choice(WRONG_JSON)
    return json.dumps(document).encode()


def _json_nodes(node: Any) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _json_nodes(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield node, index
            yield from _json_nodes(value)


def mutate_query(body: bytes, rng: random.Random) -> bytes:
    """A query-protocol body with one pair broken: junk value, bad index, duplicate, bad escape, raw bytes."""
    pairs = [pair.split(b"=", 1) for pair in body.split(b"&") if pair]
    if not pairs:
        return b"%zz"
    index = rng.randrange(len(pairs))
    key = pairs[index][0]
    choice = rng.randrange(6)
    if choice == 0:
        pairs[index] = [key, rng.choice([b"%zz", b"%", b"%ff%fe", b"\xff\xfe", b"a" * 70_000, b""])]
    elif choice == 1:
        pairs.append([key, b"duplicate"])
    elif choice == 2:
        pairs.append([key + rng.choice([b".member.0", b".member.-1", b".member.99999999999", b".entry.1.key"]), b"x"])
    elif choice == 3:
        pairs.append([rng.choice([b"Foo.member.1.Bar", b"%00", b"=", b"Action"]), b"x"])
    elif choice == 4:
        del pairs[index]
    else:
        pairs = [[b"X.member." + str(n).encode(), b"v"] for n in range(1, 20_001)] + pairs
    return b"&".join(b"=".join(pair) if len(pair) == 2 else pair[0] for pair in pairs)


def mutate_xml(body: bytes, rng: random.Random) -> bytes:
    if not body:
        return b"<x>"
    cut = rng.randrange(len(body))
    return rng.choice(
        [
            body[:cut],
            body.replace(b">", b"><Extra>" + b"<n>" * 200 + b"</n>" * 200 + b"</Extra>", 1),
            body.replace(b"<", b"<\xff", 1),
            body[: body.find(b">") + 1] + b"text" + body[body.find(b">") + 1 :],
        ]
    )


# -- sending ------------------------------------------------------------------------------------------------


_ILLEGAL_NAME = re.compile(rb"[:\s]")


def header_bytes(value: str | bytes) -> bytes:
    """Header values as octets: latin-1 when they fit (as botocore sends them), else their UTF-8 bytes."""
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def sendable(request: RawRequest) -> bool:
    """HTTP cannot carry a line break inside a header, a colon or space in a header name, nor a space or control
    character in the target."""
    if any(not name or _ILLEGAL_NAME.search(header_bytes(name)) for name in request.headers):
        return False
    values = [header_bytes(value) for value in request.headers.values()]
    if any(b"\r" in value or b"\n" in value for value in values):
        return False
    return request.target.isprintable() and " " not in request.target


def send(host: str, port: int, request: RawRequest, timeout: float) -> Outcome:
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.items():
            conn.putheader(header_bytes(name), header_bytes(value))
        if "Host" not in request.headers and "host" not in request.headers:
            conn.putheader("Host", f"{host}:{port}")
        conn.endheaders(request.body or None)
        reply = conn.getresponse()
        body = reply.read()
        headers = {k.lower(): v for k, v in reply.getheaders()}
        return Outcome(reply.status, time.monotonic() - started, body=body[:2000], headers=headers)
    except TimeoutError:
        return Outcome(None, time.monotonic() - started, timed_out=True, error="timeout")
    except (OSError, http.client.HTTPException) as error:
        return Outcome(None, time.monotonic() - started, error=f"{type(error).__name__}: {error}")
    finally:
        conn.close()


def send_bytes(host: str, port: int, data: bytes, timeout: float, *, half_close: bool = True) -> Outcome:
    """Raw bytes, then (by default) the write side closed: what does the server answer, if anything?"""
    started = time.monotonic()
    reply = b""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                reply += chunk
        except TimeoutError:
            return Outcome(_status_of(reply), time.monotonic() - started, timed_out=True, error="timeout")
        except OSError as error:
            return Outcome(_status_of(reply), time.monotonic() - started, error=f"{type(error).__name__}: {error}")
    return Outcome(_status_of(reply), time.monotonic() - started, body=reply[:2000])


def _status_of(reply: bytes) -> int | None:
    if reply.startswith(b"HTTP/1.") and len(reply) >= 12 and reply[9:12].isdigit():
        return int(reply[9:12])
    return None
