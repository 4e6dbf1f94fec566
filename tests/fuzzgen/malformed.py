"""Malformed HTTP: broken JSON, XML and query bodies (signed, so they reach the parsers), XML entity bombs,
truncated chunked and aws-chunked bodies, huge and odd headers, odd request lines, slow clients.

Each case is a `HttpCase`: a name and a function sending it to a `Target`. `closing_ok` says whether the server
may answer by closing the connection (HTTP-level breakage the HTTP parser itself refuses); otherwise a reply
below 500 is required.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fuzzgen.overrides import BUCKET
from tests.fuzzgen.wire import Outcome, RawRequest, send, send_bytes, sign


@dataclass
class Target:
    host: str
    port: int
    credentials: Credentials
    timeout: float = 10.0

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class HttpCase:
    name: str
    run: Callable[[Target], Outcome]
    closing_ok: bool = False


# -- bodies for each protocol ---------------------------------------------------------------------------

BAD_JSON: tuple[bytes, ...] = (
    b"",
    b"{",
    b"{not json",
    b"null",
    b"[]",
    b'"text"',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"x": "\\ud800"}',
    b'{"x": "\xff\xfe"}',
    b'{"x": ' + b"9" * 5000 + b"}",
    b'{"x": 1e999999}',
    b'{"x": NaN, "y": Infinity}',
    b'{"a": 1, "a": {"b": 2}}',
    b"\xef\xbb\xbf{}",
    '{"x": 1}'.encode("utf-16"),
    b'{"x": "' + b"a" * 2_000_000 + b'"}',
    b"{}" + b" " * 100_000 + b"x",
)

ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
    + b"]><Delete><Object><Key>&j;</Key></Object></Delete>"
)
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "'
    + b"x" * 100_000
    + b'">]><Delete><Object><Key>'
    + b"&e;" * 1000
    + b"</Key></Object></Delete>"
)
BAD_XML: tuple[bytes, ...] = (
    b"",
    b"<Delete>",
    b"<Delete><Object><Key>k</Key></Object>",
    b"not xml at all",
    ENTITY_BOMB,
    QUADRATIC,
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&e;</Key>'
    b"</Object></Delete>",
    b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/x.dtd"><Delete/>',
    b"<Delete>" + b"<Object>" * 100_000 + b"</Object>" * 100_000 + b"</Delete>",
    b'<?xml version="1.0" encoding="UTF-16"?><Delete/>',
    b"<Delete><Object><Key>\xff\xfe</Key></Object></Delete>",
    b'<Delete xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></Delete>',
    b"<?pi x?><Delete><Quiet>maybe</Quiet><Object><Key>k</Key><VersionId></VersionId></Object></Delete>",
    b"<Delete>" + b"<Object><Key>k</Key></Object>" * 5000 + b"</Delete>",
)

BAD_QUERY: tuple[bytes, ...] = (
    b"",
    b"Action=",
    b"Action=CreateUser",
    b"Action=CreateUser&Version=2010-05-08&UserName=%zz",
    b"Action=CreateUser&Version=2010-05-08&UserName=\xff\xfe",
    b"Action=CreateUser&Version=1999-01-01&UserName=a",
    b"Action=ListUsers&Version=2010-05-08&MaxItems=-5",
    b"Action=ListUsers&Version=2010-05-08&MaxItems=99999999999999999999",
    b"Action=TagUser&Version=2010-05-08&UserName=a&Tags.member.1.Key=k&Tags.member.99999999.Value=v",
    b"Action=TagUser&Version=2010-05-08&UserName=a&Tags.member.1.Key.member.1.Key=k",
    b"Action=CreateUser&Version=2010-05-08&" + b"&".join(b"P%d=v" % n for n in range(30_000)),
    b"Action=CreateUser&Version=2010-05-08&UserName=" + b"a" * 3_000_000,
    b"Action=%00&Version=2010-05-08",
    b"Action=CreateUser&Action=DeleteUser&Version=2010-05-08&UserName=a",
)

JSON_TARGETS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("sagemaker", "POST", "/", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListDevices"}),
    ("sagemaker", "POST", "/", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.Nope"}),
    ("iot", "POST", "/things/fuzz-thing", {"Content-Type": "application/json"}),
    ("iot", "PATCH", "/things/fuzz-thing", {"Content-Type": "application/json"}),
    ("iot", "POST", "/policies/fuzz-policy", {"Content-Type": "application/json"}),
    ("sagemaker-edge", "POST", "/SendHeartbeat", {"Content-Type": "application/json"}),
)


def signed(target: Target, service: str, method: str, path: str, body: bytes, headers: dict[str, str]) -> RawRequest:
    request = AWSRequest(method=method, url=f"{target.endpoint}{path}", data=body, headers=dict(headers))
    return sign(request, service, target.credentials)


def _body_case(name: str, service: str, method: str, path: str, body: bytes, headers: dict[str, str]) -> HttpCase:
    return HttpCase(name, lambda t: send(t.host, t.port, signed(t, service, method, path, body, headers), t.timeout))


def body_cases() -> Iterator[HttpCase]:
    for service, method, path, headers in JSON_TARGETS:
        for index, body in enumerate(BAD_JSON):
            yield _body_case(f"json {service} {method} {path} #{index}", service, method, path, body, headers)
    for path in (f"/{BUCKET}?delete", f"/{BUCKET}/k?uploadId=x", "/fuzz-new-bucket"):
        method = "PUT" if path == "/fuzz-new-bucket" else "POST"
        for index, body in enumerate(BAD_XML):
            yield _body_case(f"xml s3 {method} {path} #{index}", "s3", method, path, body, {})
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for service in ("iam", "sts"):
        for index, body in enumerate(BAD_QUERY):
            yield _body_case(f"query {service} #{index}", service, "POST", "/", body, form)


# -- bodies that stop, or say what they are not -------------------------------------------------------------


def _head(request: RawRequest, drop: tuple[str, ...] = ()) -> bytes:
    lines = [f"{request.method} {request.target} HTTP/1.1".encode()]
    for name, value in request.headers.items():
        if name.lower() not in drop:
            lines.append(f"{name}: {value}".encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n"


def _framing_case(name: str, build: Callable[[Target], bytes], closing_ok: bool = True) -> HttpCase:
    return HttpCase(name, lambda t: send_bytes(t.host, t.port, build(t), t.timeout), closing_ok)


def _chunked(target: Target, tail: bytes, te: str = "chunked") -> bytes:
    request = signed(target, "iam", "POST", "/", b"", {"Content-Type": "application/x-www-form-urlencoded"})
    head = _head(request, drop=("content-length",))
    return head + f"Transfer-Encoding: {te}\r\n\r\n".encode() + tail


def _aws_chunked(target: Target, body: bytes, sha: str, extra: dict[str, str]) -> bytes:
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": sha,
        "X-Amz-Decoded-Content-Length": "11",
        **extra,
    }
    request = AWSRequest(method="PUT", url=f"{target.endpoint}/{BUCKET}/fuzz-chunked", data=b"", headers=headers)
    SigV4Auth(target.credentials, "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = RawRequest("PUT", f"/{BUCKET}/fuzz-chunked", dict(prepared.headers.items()), b"")
    return _head(raw, drop=("content-length",)) + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


SIGNED_STREAM = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
FAKE_SIG = "chunk-signature=" + "0" * 64
AWS_CHUNKED_BODIES: tuple[tuple[str, bytes, str, dict[str, str]], ...] = (
    ("bad chunk signature", f"b;{FAKE_SIG}\r\nhello world\r\n0;{FAKE_SIG}\r\n\r\n".encode(), SIGNED_STREAM, {}),
    ("truncated", f"b;{FAKE_SIG}\r\nhello".encode(), SIGNED_STREAM, {}),
    ("bad hex size", f"zz;{FAKE_SIG}\r\nhello world\r\n".encode(), SIGNED_STREAM, {}),
    ("huge size", f"ffffffffffffffff;{FAKE_SIG}\r\nhello\r\n".encode(), SIGNED_STREAM, {}),
    ("no final chunk", b"b\r\nhello world\r\n", UNSIGNED_TRAILER, {"X-Amz-Trailer": "x-amz-checksum-crc32"}),
    (
        "bad trailer checksum",
        b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        UNSIGNED_TRAILER,
        {"X-Amz-Trailer": "x-amz-checksum-crc32"},
    ),
    (
        "length mismatch",
        b"5\r\nhello\r\n0\r\n\r\n",
        UNSIGNED_TRAILER,
        {},
    ),
    ("garbage", b"\x00\xff" * 100, UNSIGNED_TRAILER, {}),
    ("unknown sha", b"hello world", "STREAMING-NONSENSE", {}),
)


def framing_cases() -> Iterator[HttpCase]:
    yield _framing_case("chunked truncated", lambda t: _chunked(t, b"10\r\nAction=GetCall"))
    yield _framing_case("chunked bad size", lambda t: _chunked(t, b"zz\r\nAction\r\n0\r\n\r\n"))
    yield _framing_case("chunked huge size", lambda t: _chunked(t, b"ffffffffffffffffff\r\nx\r\n"))
    yield _framing_case("chunked extension junk", lambda t: _chunked(t, b"5;\x00\xff=\r\nhello\r\n0\r\n\r\n"))
    yield _framing_case("chunked no final chunk", lambda t: _chunked(t, b"5\r\nhello\r\n"))
    yield _framing_case("transfer-encoding gzip", lambda t: _chunked(t, b"5\r\nhello\r\n0\r\n\r\n", "gzip, chunked"))
    yield _framing_case("content-length short", _content_length(b"Action=GetCallerIdentity", 1000))
    yield _framing_case("content-length negative", _content_length(b"Action=x", -1))
    yield _framing_case("content-length junk", _content_length(b"Action=x", "abc"))
    yield _framing_case("content-length twice", _content_length(b"Action=x", "8\r\nContent-Length: 9"))
    yield _framing_case(
        "content-length and chunked",
        lambda t: _chunked(t, b"5\r\nhello\r\n0\r\n\r\n").replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\n", 1),
    )
    for name, body, sha, extra in AWS_CHUNKED_BODIES:
        yield _framing_case(f"aws-chunked {name}", _aws_chunked_case(body, sha, extra))


def _aws_chunked_case(body: bytes, sha: str, extra: dict[str, str]) -> Callable[[Target], bytes]:
    return lambda target: _aws_chunked(target, body, sha, extra)


def _content_length(body: bytes, length: object) -> Callable[[Target], bytes]:
    def build(target: Target) -> bytes:
        request = signed(target, "sts", "POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        return _head(request, drop=("content-length",)) + f"Content-Length: {length}\r\n\r\n".encode() + body

    return build


# -- heads: headers and request lines ----------------------------------------------------------------------


def _raw_head(lines: list[bytes]) -> Callable[[Target], bytes]:
    return lambda t: b"\r\n".join([*lines, f"Host: {t.host}:{t.port}".encode(), b"", b""])


def head_cases() -> Iterator[HttpCase]:
    yield _framing_case("header 100 KiB", _raw_head([b"GET / HTTP/1.1", b"X-Big: " + b"a" * 100_000]))
    yield _framing_case("header 1 MiB", _raw_head([b"GET / HTTP/1.1", b"X-Big: " + b"a" * 1_000_000]))
    yield _framing_case("5000 headers", _raw_head([b"GET / HTTP/1.1", *(b"X-H%d: v" % n for n in range(5000))]))
    yield _framing_case("header NUL", _raw_head([b"GET / HTTP/1.1", b"X-A: a\x00b"]))
    yield _framing_case("header latin-1", _raw_head([b"GET / HTTP/1.1", b"X-A: \xff\xfe"]))
    yield _framing_case("header folded", _raw_head([b"GET / HTTP/1.1", b"X-A: a", b"  folded"]))
    yield _framing_case("header no colon", _raw_head([b"GET / HTTP/1.1", b"NoColonHere"]))
    yield _framing_case("authorization huge", _raw_head([b"GET / HTTP/1.1", b"Authorization: AWS4 " + b"x" * 60_000]))
    yield _framing_case("path 100 KiB", _raw_head([b"GET /" + b"a" * 100_000 + b" HTTP/1.1"]))
    yield _framing_case("path bad escapes", _raw_head([b"GET /%zz/%/%ff%fe HTTP/1.1"]))
    yield _framing_case("path NUL", _raw_head([b"GET /a\x00b HTTP/1.1"]))
    yield _framing_case("path dots", _raw_head([b"GET /../../../../etc/passwd HTTP/1.1"]))
    yield _framing_case("absolute form", _raw_head([b"GET http://evil.example/ HTTP/1.1"]))
    yield _framing_case("asterisk form", _raw_head([b"OPTIONS * HTTP/1.1"]))
    yield _framing_case("unknown method", _raw_head([b"FROB / HTTP/1.1"]))
    yield _framing_case("HTTP/0.9", lambda t: b"GET /\r\n")
    yield _framing_case("HTTP/2 preface", lambda t: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    yield _framing_case(
        "TLS hello on plain port", lambda t: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40
    )
    yield _framing_case("no host", lambda t: b"GET / HTTP/1.1\r\n\r\n")
    yield _framing_case("binary junk", lambda t: random.Random(7).randbytes(4096))
    yield _framing_case("query 1 MiB", _raw_head([b"GET /?" + b"a=b&" * 250_000 + b" HTTP/1.1"]))
    yield _framing_case(
        "many query keys",
        _raw_head([b"GET /fuzzgen-bucket?" + b"&".join(b"k%d" % n for n in range(20_000)) + b" HTTP/1.1"]),
    )


# -- slow clients -------------------------------------------------------------------------------------------


def slow_clients(target: Target, connections: int = 50, seconds: float = 3.0) -> Outcome:
    """`connections` clients trickle their heads and bodies; meanwhile a normal request must still be answered."""
    stop = threading.Event()
    sockets: list[socket.socket] = []
    try:
        for index in range(connections):
            sock = socket.create_connection((target.host, target.port), timeout=target.timeout)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + (b"Content-Length: 1000\r\n\r\n" if index % 2 else b""))
            sockets.append(sock)
        trickler = threading.Thread(target=_trickle, args=(sockets, stop), daemon=True)
        trickler.start()
        time.sleep(seconds / 2)
        healthy = send(target.host, target.port, RawRequest("GET", "/_edgeward/health", {}, b""), target.timeout)
        time.sleep(seconds / 2)
        return healthy
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def _trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    while not stop.wait(0.2):
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.send(b"X")


def slow_cases(connections: int = 50, seconds: float = 3.0) -> Iterator[HttpCase]:
    yield HttpCase(f"slow clients x{connections}", lambda t: slow_clients(t, connections, seconds))


def all_cases(slow_connections: int = 50, slow_seconds: float = 3.0) -> list[HttpCase]:
    return [*body_cases(), *framing_cases(), *head_cases(), *slow_cases(slow_connections, slow_seconds)]
