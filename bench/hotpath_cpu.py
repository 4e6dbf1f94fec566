"""CPU per request on the hot paths, measured in-process (no HTTP server, no load generator).

    .venv/bin/python bench/hotpath_cpu.py [--requests 3000] [--profile NAME] [--database-url URL]

On a shared, loaded machine req/s figures move by a quarter between runs; the CPU a request costs does not.
This script builds edgeward's pipeline in this process (a fresh SQLite data directory, or `--database-url`),
sets up the fixtures through boto3 clients whose requests are answered in-process, then replays requests
that botocore signed, and prints the CPU (user + system, all threads: the decision-log flusher included)
per request:

- `GetUser`: an authenticated IAM read (read-only transaction, XML reply);
- `UpdateAccessKey`: an IAM write flipping a key's status, as a group-commit batch of one (SQLite) or its
  own transaction (PostgreSQL), and in batches of 16;
- `SendHeartbeat`: a sagemaker-edge write signed by the admin, likewise;
- `credentials exchange`: the mTLS credentials provider's database work and reply for one device
  (certificate, alias, role, a new STS session), likewise.

Neither the HTTP server (uvicorn / the mTLS listener) nor the TLS handshakes are included: those are the
same before and after a change of the pipeline. `--profile NAME` prints a cProfile of that workload.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config as BotoConfig
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from iot_certificates import make_csrs

from edgeward.credentials.request import CredentialsRequest
from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.server.app import EdgewardApp
from edgeward.server.bootstrap import prepare
from edgeward.server.config import Config
from edgeward.server.mtls_exchange import new_work
from edgeward.server.pipeline import Pipeline, Work
from edgeward.server.writer import GroupWriter
from edgeward.services import decisions

REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:4566"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "credentials.iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
ALIAS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": "*"}],
}


class _Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def to_http(prepared: AWSPreparedRequest) -> HttpRequest:
    url = urlsplit(prepared.url)
    headers = {"host": url.netloc}
    for name, value in prepared.headers.items():
        headers[name.lower()] = value.decode() if isinstance(value, bytes) else str(value)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    return HttpRequest(prepared.method, url.path or "/", url.query, headers, body, "http", "127.0.0.1")


def fresh(template: HttpRequest) -> HttpRequest:
    """A copy with an empty per-request cache, as a new request off the wire would have."""
    return HttpRequest(
        template.method,
        template.raw_path,
        template.query_string,
        dict(template.headers),
        template.body,
        template.scheme,
        template.client_ip,
    )


@dataclass
class Harness:
    pipeline: Pipeline
    writer: GroupWriter  # used synchronously through `_commit`: no thread, no event loop
    credentials: tuple[str, str]
    app: Any = None
    serialized: float = 0.0  # CPU seconds inside the group writer's transactions (SQLite)

    def answer(self, request: HttpRequest) -> HttpResponse:
        prepared = self.pipeline.prepare(request)
        if isinstance(prepared, HttpResponse):
            return prepared
        if prepared.read_only:
            return prepared.execute()
        return self.write([prepared])[0]

    def write(self, works: list[Any]) -> list[HttpResponse]:
        if self.pipeline.db.dialect == "sqlite":
            for work in works:
                if getattr(work, "prepares_outside", False):  # what the app does before it submits
                    work.prepare_outside()
                prepare = getattr(work, "before_transaction", None)  # what GroupWriter.submit does first
                if prepare is not None:
                    prepare()
            start = time.thread_time()
            responses, _ = self.writer._commit([SimpleNamespace(work=work) for work in works])
            self.serialized += time.thread_time() - start
            return responses
        return [work.execute() if isinstance(work, Work) else work.execute(self.pipeline.db) for work in works]

    def client(self, service: str) -> Any:
        """A boto3 client whose requests this process answers."""
        key, secret = self.credentials
        client = boto3.client(
            service,
            endpoint_url=ENDPOINT,
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=BotoConfig(retries={"total_max_attempts": 1}),
        )

        def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
            response = self.answer(to_http(request))
            raw = _Raw(response.body)
            return AWSResponse(request.url, response.status, dict(response.headers), raw)

        client.meta.events.register_first("before-send", send)
        return client

    def signed(self, service: str, operation: str, params: dict[str, Any]) -> HttpRequest:
        key, secret = self.credentials
        client = boto3.client(
            service, endpoint_url=ENDPOINT, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret
        )

        def capture(request: AWSPreparedRequest, **_: Any) -> None:
            raise _Captured(request)

        client.meta.events.register_first("before-send", capture)
        try:
            getattr(client, operation)(**params)
        except _Captured as captured:
            return to_http(captured.request)
        raise RuntimeError("not captured")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def build(data_dir: Path, database_url: str | None) -> Harness:
    config = Config(data_dir=data_dir, mtls_port=0, database_url=database_url, log_level="warning")
    prepare(config)
    _without_console()
    app = EdgewardApp(config)
    app.start()
    assert app.service is not None
    creds = (data_dir / "credentials").read_text().split()
    key = next(v for k, v in zip(creds, creds[2:], strict=False) if k == "aws_access_key_id")
    secret = next(v for k, v in zip(creds, creds[2:], strict=False) if k == "aws_secret_access_key")
    return Harness(app.service.pipeline, GroupWriter(app.service.db), (key, secret), app)


def _without_console() -> None:
    """The web console plays no part in the API's hot paths: leave it out (and out of reach of whatever
    state its pages are in while others work on them)."""
    from edgeward.server import assembly

    assembly.build_console = lambda deps: None  # type: ignore[assignment]


# -- workloads -----------------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    batch: int
    next_batch: Callable[[int], list[Any]]  # i -> units of work (or requests, for reads)
    read: bool = False


def workloads(h: Harness) -> list[Workload]:
    iam = h.client("iam")
    iam.create_user(UserName="bench-user")
    keys = [iam.create_access_key(UserName="bench-user")["AccessKey"]["AccessKeyId"] for _ in range(2)]
    get_user = h.signed("iam", "get_user", {"UserName": "bench-user"})
    flips = [
        h.signed("iam", "update_access_key", {"UserName": "bench-user", "AccessKeyId": keys[0], "Status": s})
        for s in ("Inactive", "Active")
    ]

    sm = h.client("sagemaker")
    sm.create_device_fleet(DeviceFleetName="fleet", OutputConfig={"S3OutputLocation": "s3://bucket/out"})
    devices = [{"DeviceName": f"device-{i}", "IotThingName": f"thing-{i}"} for i in range(32)]
    sm.register_devices(DeviceFleetName="fleet", Devices=devices)
    models = [{"ModelName": "detector", "ModelVersion": "1.0"}, {"ModelName": "classifier", "ModelVersion": "2.1"}]
    beats = [
        h.signed(
            "sagemaker-edge",
            "send_heartbeat",
            {"AgentVersion": "1.0.20", "DeviceName": f"device-{i}", "DeviceFleetName": "fleet", "Models": models},
        )
        for i in range(32)
    ]
    exchange = _device(h)
    csrs = make_csrs(64)  # half RSA-2048, half EC P-256, each with its own common name
    _recycled_keys(8)
    keys_request = h.signed("iot", "create_keys_and_certificate", {"setAsActive": True})
    csr_requests = [
        h.signed("iot", "create_certificate_from_csr", {"certificateSigningRequest": csr, "setAsActive": True})
        for csr in csrs
    ]

    def reads(i: int) -> list[Any]:
        return [fresh(get_user)]

    def flip_batch(size: int) -> Callable[[int], list[Any]]:
        return lambda i: [_work(h, flips[(i * size + k) % 2]) for k in range(size)]

    def beat_batch(size: int) -> Callable[[int], list[Any]]:
        return lambda i: [_work(h, beats[(i * size + k) % len(beats)]) for k in range(size)]

    def keys_batch(size: int) -> Callable[[int], list[Any]]:
        return lambda i: [_work(h, keys_request) for _ in range(size)]

    def csr_batch(size: int) -> Callable[[int], list[Any]]:
        return lambda i: [_work(h, csr_requests[(i * size + k) % len(csr_requests)]) for k in range(size)]

    def exchange_batch(size: int) -> Callable[[int], list[Any]]:
        return lambda i: [new_work(h.pipeline.box, REGION, exchange) for _ in range(size)]

    return [
        Workload("GetUser", 1, reads, read=True),
        Workload("UpdateAccessKey", 1, flip_batch(1)),
        Workload("UpdateAccessKey x16", 16, flip_batch(16)),
        Workload("SendHeartbeat", 1, beat_batch(1)),
        Workload("SendHeartbeat x16", 16, beat_batch(16)),
        Workload("credentials exchange", 1, exchange_batch(1)),
        Workload("credentials exchange x16", 16, exchange_batch(16)),
        Workload("CreateKeysAndCertificate", 1, keys_batch(1)),
        Workload("CreateKeysAndCertificate x16", 16, keys_batch(16)),
        Workload("CreateCertificateFromCsr", 1, csr_batch(1)),
        Workload("CreateCertificateFromCsr x16", 16, csr_batch(16)),
    ]


def _work(h: Harness, template: HttpRequest) -> Work:
    prepared = h.pipeline.prepare(fresh(template))
    assert isinstance(prepared, Work), prepared
    return prepared


class _RecycledKeys:
    """Stands in for the key pool: the request path's CPU without RSA generation, which the pool does ahead
    of demand (bench/pki_keys.py measures that); the same few keys handed out again and again."""

    def __init__(self, count: int) -> None:
        from edgeward.pki.keys import generate_rsa_key

        self._keys = [generate_rsa_key() for _ in range(count)]
        self._next = 0

    def take_counted(self) -> tuple[Any, bool]:
        self._next += 1
        return self._keys[self._next % len(self._keys)], True


def _recycled_keys(count: int) -> None:
    from edgeward.services.iot import authority, certificates_create

    pool = _RecycledKeys(count)
    authority.key_pool = certificates_create.key_pool = lambda: pool  # type: ignore[assignment,return-value]


def _device(h: Harness) -> CredentialsRequest:
    iot, iam = h.client("iot"), h.client("iam")
    cert = iot.create_keys_and_certificate(setAsActive=True)
    iot.create_policy(policyName="alias-policy", policyDocument=json.dumps(ALIAS_POLICY))
    iot.attach_policy(policyName="alias-policy", target=cert["certificateArn"])
    role = iam.create_role(RoleName="device-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iot.create_role_alias(roleAlias="device-alias", roleArn=role["Arn"])
    der = x509.load_pem_x509_certificate(cert["certificatePem"].encode()).public_bytes(Encoding.DER)
    return CredentialsRequest(cert["certificateId"], der, "device-alias", None)


# -- measuring -----------------------------------------------------------------------------------


def run(h: Harness, workload: Workload, count: int, rounds: int = 1) -> tuple[float, float]:
    """CPU ms per request over `count` requests (after a warm-up of a tenth), in all and inside the group
    writer's transactions: the least of `rounds` rounds (other load on the machine only ever adds)."""
    batches = max(1, count // workload.batch)
    _batches(h, workload, max(1, batches // 10))
    decisions_flush()
    best, best_serialized = float("inf"), float("inf")
    for _ in range(rounds):
        h.serialized = 0.0
        start = time.process_time()
        _batches(h, workload, batches)
        decisions_flush()
        requests = batches * workload.batch
        best = min(best, (time.process_time() - start) * 1000 / requests)
        best_serialized = min(best_serialized, h.serialized * 1000 / requests)
    return best, best_serialized


def _batches(h: Harness, workload: Workload, batches: int) -> None:
    for i in range(batches):
        items = workload.next_batch(i)
        responses = [h.answer(item) for item in items] if workload.read else h.write(items)
        for response in responses:
            if response.status != 200:
                raise RuntimeError(f"{workload.name}: {response.status} {response.body[:300]!r}")


def decisions_flush() -> None:
    """Wait until the decision-log flusher wrote what is queued (its CPU belongs to the requests)."""
    deadline = time.monotonic() + 10
    while decisions.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.25)


def serve_http(h: Harness, app: Any, template: HttpRequest, seconds: int, profile: bool, coalesce: bool) -> None:
    """Serve `app` with uvicorn (as `edgeward serve` does) in this process and replay `template` with wrk;
    CPU per request of this process (the server alone), optionally profiled."""
    import threading

    import bench_wrk
    import uvicorn
    from bench_requests import SignedRequest as WrkRequest

    http: Any = "httptools"
    if coalesce:
        from edgeward.server.http_protocol import CoalescingHttpToolsProtocol

        http = CoalescingHttpToolsProtocol
    config = uvicorn.Config(app, host="127.0.0.1", port=0, loop="uvloop", http=http, log_level="warning")
    server = uvicorn.Server(config)
    path = template.raw_path + (f"?{template.query_string}" if template.query_string else "")
    headers = {("Host" if k == "host" else k): v for k, v in template.headers.items() if k != "content-length"}
    wrk_request = WrkRequest(template.method, path, headers, template.body)
    result: dict[str, Any] = {}

    def load() -> None:
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            script = bench_wrk.write_script([[wrk_request]], Path(tmp) / "s.lua")
            url = f"http://127.0.0.1:{port}"
            bench_wrk.run(url, script, 1, 16, 1)
            loop = server.servers[0].get_loop()
            start = time.process_time()
            if profile:  # cProfile follows one thread: the event loop's
                loop.call_soon_threadsafe(profiler.enable)
            result["wrk"] = bench_wrk.run(url, script, seconds, 16, 1)
            if profile:
                loop.call_soon_threadsafe(profiler.disable)
            result["cpu"] = time.process_time() - start
        server.should_exit = True

    profiler = cProfile.Profile()
    threading.Thread(target=load, daemon=True).start()
    server.run()
    wrk = result["wrk"]
    if not wrk.valid:
        raise RuntimeError(f"HTTP run: {wrk.non2xx} failed responses, first: {wrk.first_bad}")
    total = wrk.requests_per_s * seconds
    print(f"HTTP: {wrk.requests_per_s:,.0f} req/s (one process, 16 connections), "
          f"{result['cpu'] * 1000 / total:.3f} ms CPU per request (server process; wrk apart)")  # fmt: skip
    if profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(70)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", help="print a cProfile of the workload with this name")
    parser.add_argument("--only", help="run only workloads whose name contains this")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per workload; the least CPU counts (3)")
    parser.add_argument("--database-url")
    parser.add_argument("--http", type=int, metavar="SECONDS", help="also serve GetUser over HTTP with uvicorn")
    parser.add_argument("--http-profile", action="store_true", help="profile the HTTP run")
    parser.add_argument("--plain-http", action="store_true", help="uvicorn's own httptools protocol (two writes)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edgeward-hotpath-") as tmp:
        h = build(Path(tmp), args.database_url)
        figures = {}
        for workload in workloads(h):
            if args.only and args.only not in workload.name:
                continue
            if args.profile == workload.name:
                profiler = cProfile.Profile()
                profiler.enable()
                run(h, workload, args.requests)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
            ms, serialized = run(h, workload, args.requests, args.rounds)
            figures[workload.name] = {"cpu_ms": round(ms, 4), "serialized_ms": round(serialized, 4)}
            inside = f"  ({serialized:.3f} ms inside the writer's transaction)" if serialized else ""
            print(f"{workload.name:<28} {ms:6.3f} ms CPU per request{inside}", flush=True)
        print(json.dumps(figures))
        if args.http:
            request = h.signed("iam", "get_user", {"UserName": "bench-user"})
            serve_http(h, h.app, request, args.http, args.http_profile, not args.plain_http)
    return 0


if __name__ == "__main__":
    sys.exit(main())
