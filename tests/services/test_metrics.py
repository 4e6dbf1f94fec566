"""Prometheus metrics at /_edgeward/metrics: requests by service, operation and status, latency histograms,
authorization decisions, credential exchanges and certificates, parsed with prometheus_client's own parser;
with several workers, a scrape answered by any of them counts the requests of all.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.mtls import Provider, device_curl, make_device, start_provider
from tests.serverfixtures import RunningServer, start_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: RunningServer) -> tuple[str, Samples]:
    with urllib.request.urlopen(f"{server.endpoint}/_edgeward/metrics", timeout=10) as reply:
        content_type = reply.headers["content-type"]
        text = reply.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return content_type, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, service: str, operation: str, status: int) -> float:
    return value(samples, "edgeward_requests_total", service=service, operation=operation, status=str(status))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param)


def test_requests_are_counted_by_service_operation_and_status(provider: Provider) -> None:
    server = provider.server
    iam = server.client("iam")
    _, before = scrape(server)
    name = f"metrics-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    for _ in range(3):
        iam.get_user(UserName=name)
    with pytest.raises(ClientError):
        iam.get_user(UserName="no-such-user-here")
    content_type, after = scrape(server)
    assert content_type.startswith("text/plain; version=0.0.4")
    assert requests(after, "iam", "CreateUser", 200) - requests(before, "iam", "CreateUser", 200) == 1
    assert requests(after, "iam", "GetUser", 200) - requests(before, "iam", "GetUser", 200) == 3
    assert requests(after, "iam", "GetUser", 404) - requests(before, "iam", "GetUser", 404) == 1


def test_latency_histogram_per_operation(provider: Provider) -> None:
    server = provider.server
    server.client("sts").get_caller_identity()
    _, samples = scrape(server)
    labels = {"service": "sts", "operation": "GetCallerIdentity"}
    count = value(samples, "edgeward_request_duration_seconds_count", **labels)
    assert count >= 1
    assert value(samples, "edgeward_request_duration_seconds_bucket", le="+Inf", **labels) == count
    assert 0 < value(samples, "edgeward_request_duration_seconds_sum", **labels) < 60
    buckets = [
        v for (n, lab), v in samples.items() if n.endswith("_bucket") and ("operation", "GetCallerIdentity") in lab
    ]
    assert len(buckets) >= 10  # cumulative buckets from 1 ms up


def test_requests_that_fail_before_routing_are_counted_too(provider: Provider) -> None:
    server = provider.server
    _, before = scrape(server)
    request = urllib.request.Request(f"{server.endpoint}/", data=b"Action=NoSuchThing", method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)
    _, after = scrape(server)
    total_before = sum(v for (n, _), v in before.items() if n == "edgeward_requests_total")
    total_after = sum(v for (n, _), v in after.items() if n == "edgeward_requests_total")
    assert total_after == total_before + 1


def test_authorization_decisions_allowed_and_denied(provider: Provider) -> None:
    server = provider.server
    iam = server.client("iam")
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    _, before = scrape(server)
    powerless = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as denied:
        powerless.list_users()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    iam.get_user(UserName=name)
    _, after = scrape(server)
    name_ = "edgeward_authorization_decisions_total"
    assert value(after, name_, decision="denied") - value(before, name_, decision="denied") >= 1
    assert value(after, name_, decision="allowed") - value(before, name_, decision="allowed") >= 1


def test_certificates_and_credential_exchanges(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> None:
    server = provider.server
    _, before = scrape(server)
    device = make_device(provider, tmp_path_factory.mktemp("device"))
    assert device_curl(provider, device, thing=device.thing).status == 200
    assert device_curl(provider, device, alias="bad%20alias").status == 400
    _, after = scrape(server)
    certs = "edgeward_certificates_issued_total"
    created = {"operation": "CreateKeysAndCertificate"}
    assert value(after, certs, **created) - value(before, certs, **created) == 1
    exchanges = "edgeward_credential_exchanges_total"
    assert value(after, exchanges, outcome="issued") - value(before, exchanges, outcome="issued") == 1
    refused = sum(
        v - before.get((n, lab), 0.0)
        for (n, lab), v in after.items()
        if n == exchanges and ("outcome", "issued") not in lab
    )
    assert refused == 1


def test_several_workers_add_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each scrape may reach either worker; every one sees the requests of both."""
    data_dir = tmp_path_factory.mktemp("workers") / "data"
    server = start_server(data_dir, extra_args=["--workers", "2"])
    try:
        sts = server.client("sts")
        for _ in range(20):
            sts.get_caller_identity()
        for _ in range(4):
            _, samples = scrape(server)
            assert requests(samples, "sts", "GetCallerIdentity", 200) == 20
            assert "process_cpu_seconds_total" not in {n for n, _ in samples}  # per process: not summed
    finally:
        server.stop()
