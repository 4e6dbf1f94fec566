"""Prometheus metrics, served at `GET /_edgeward/metrics` in the text exposition format.

With one worker process the counters live in this process. With `--workers N` every worker would only see its
own share, so `edgeward serve` points prometheus_client's multi-process mode at a fresh directory
(`PROMETHEUS_MULTIPROC_DIR`, created before the workers start and removed when the server exits): each worker
writes its counters to memory-mapped files there and a scrape, whichever worker answers it, adds them all up.
An operator who sets PROMETHEUS_MULTIPROC_DIR chooses the directory and must empty it between runs.

Recording a request costs a few microseconds: the labelled children are looked up once per (service,
operation, status) and kept in a dictionary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector

from edgeward.protocol.http import HttpRequest, HttpResponse
from edgeward.server import logs
from edgeward.server.metrics_dir import MULTIPROC_ENV
from edgeward.services import metrics as events

if TYPE_CHECKING:
    from edgeward.server.pipeline import Work

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus version reads

# Most requests take milliseconds; the long tail is uploads, downloads and cold caches.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# IoT operations whose success means one certificate more (the CA's, or a registered one).
CERTIFICATE_OPERATIONS = frozenset(
    {
        ("iot", "CreateKeysAndCertificate"),
        ("iot", "CreateCertificateFromCsr"),
        ("iot", "RegisterCertificate"),
        ("iot", "RegisterCertificateWithoutCA"),
    }
)

# `*_created` series double the output and tell nothing a restart time would not.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "edgeward_requests",
    "AWS API requests answered, by service, operation and HTTP status.",
    ["service", "operation", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "edgeward_request_duration_seconds",
    "Time from a request's arrival to its reply being ready (streamed bodies not included).",
    ["service", "operation"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
DECISIONS = Counter(
    "edgeward_authorization_decisions",
    "IAM authorization decisions, allowed or denied.",
    ["decision"],
    registry=REGISTRY,
)
EXCHANGES = Counter(
    "edgeward_credential_exchanges",
    "Requests to the mTLS credentials provider, by outcome (issued, or the error type).",
    ["outcome"],
    registry=REGISTRY,
)
CERTIFICATES = Counter(
    "edgeward_certificates_issued",
    "Device certificates issued by the CA or registered, by operation.",
    ["operation"],
    registry=REGISTRY,
)

DEVICE_KEYS = Counter(
    "edgeward_device_keys",
    "Key pairs handed out by CreateKeysAndCertificate, by source: the key pool, or generated on demand "
    "because the pool was empty (then --key-pool-size is too small for the bursts seen).",
    ["source"],
    registry=REGISTRY,
)

KEY_POOL_READY = Gauge(
    "edgeward_key_pool_ready",
    "RSA keys generated ahead and ready for CreateKeysAndCertificate (summed over the worker processes).",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)

if MULTIPROC_ENV not in os.environ:
    ProcessCollector(registry=REGISTRY)  # memory and CPU of this process (not meaningful summed over workers)


class _Recorder:
    """Counter and histogram children per (service, operation, status), looked up once."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def request(self, service: str, operation: str, status: int, seconds: float) -> None:
        key = (service, operation, status)
        children = self._children.get(key)
        if children is None:
            children = REQUESTS.labels(service, operation, str(status)), LATENCY.labels(service, operation)
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if status < 300 and (service, operation) in CERTIFICATE_OPERATIONS:
            events.certificate_issued(operation)


_recorder = _Recorder()
record_request = _recorder.request


def _cached(counter: Counter) -> Callable[[str], Counter]:
    children: dict[str, Counter] = {}

    def child(label: str) -> Counter:
        found = children.get(label)
        if found is None:
            found = children[label] = counter.labels(label)
        return found

    return child


def install() -> None:
    """Connect the services' events to these counters (once per worker process; repeating is harmless)."""
    events.install(
        {True: DECISIONS.labels("allowed"), False: DECISIONS.labels("denied")},
        _cached(EXCHANGES),
        _cached(CERTIFICATES),
        _cached(DEVICE_KEYS),
        KEY_POOL_READY.set,
    )


def exposition() -> bytes:
    """Every metric in the text format; with several workers, the sum of all of them."""
    if MULTIPROC_ENV in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


_REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-request-id")


def observe(request: HttpRequest, work: Work | None, response: HttpResponse, started: float) -> None:
    """The per-request hook of `server.app`: metrics and the access-log line. `work` is None when the request
    was answered before it was routed (unknown service, bad signature format, body too large)."""
    seconds = time.perf_counter() - started
    if work is not None:
        service, operation, request_id = work.route.service, work.route.operation, work.request_id
        principal = work.principal.arn if work.principal is not None else ""
    else:
        service, operation, principal = "unknown", "unknown", ""
        request_id = next((v for k, v in response.headers if k.lower() in _REQUEST_ID_HEADERS), "")
    _recorder.request(service, operation, response.status, seconds)
    logs.request_line(
        request_id, service, operation, response.status, seconds, principal, request.method, request.raw_path
    )
