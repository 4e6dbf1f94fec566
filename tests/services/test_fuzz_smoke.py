"""A few hundred cases of the fuzz campaign (bench/fuzz runs over 10,000): every implemented operation gets a
broken input from its shapes and a byte-level broken body, plus every malformed-HTTP case, against a real server
as its administrator. Zero 5xx, zero hangs, memory bounded. Fixed seed: the same cases on every run.
"""

from __future__ import annotations

from itertools import chain

import pytest
from botocore.credentials import Credentials

from tests.fuzzgen import campaign, malformed, resources, wire, wire_operations
from tests.serverfixtures import RunningServer

SEED = 20240901
MEMORY_GROWTH_LIMIT_MIB = 256


@pytest.fixture(scope="module")
def target(server: RunningServer) -> malformed.Target:
    resources.create(lambda service, **config: server.client(service, **config))
    key, secret = server.admin_keys()
    host, port = server.endpoint.removeprefix("http://").split(":")
    return malformed.Target(host, int(port), Credentials(key, secret), timeout=30.0)


def test_fuzz_smoke(server: RunningServer, target: malformed.Target) -> None:
    operations = wire_operations()
    account = server.client("sts").get_caller_identity()["Account"]
    cases = chain(
        campaign.shape_cases(target, account, operations, 1, SEED),
        campaign.wire_cases(target, account, operations, 1, SEED),
        campaign.http_cases(malformed.all_cases(slow_connections=20, slow_seconds=1.0)),
    )
    report = campaign.run(cases, target, server_pid=server.process.pid, workers=2)
    print(report.summary())
    assert report.cases >= 300, report.summary()
    problems = [f"{f.case}: {f.reason} {f.error} {f.reply[:200]}" for f in report.failures]
    assert problems == [], "\n".join(problems)
    growth = (max(report.rss_kib) - report.rss_kib[0]) / 1024
    assert growth < MEMORY_GROWTH_LIMIT_MIB, report.summary()


# Inputs the full campaign (bench/fuzz) once answered with 500 (a negative page size the models do not bound):
# now each gets its service's 400.
FOUND_BY_THE_CAMPAIGN = [
    ("sagemaker", "ListDevices", {"MaxResults": -1}, "ValidationException"),
    ("sagemaker", "ListDeviceFleets", {"MaxResults": -1}, "ValidationException"),
    ("s3", "ListMultipartUploads", {"Bucket": "fuzzgen-bucket", "MaxUploads": -1}, "InvalidArgument"),
]


@pytest.mark.parametrize(
    ("service", "operation", "params", "code"), FOUND_BY_THE_CAMPAIGN, ids=[k[1] for k in FOUND_BY_THE_CAMPAIGN]
)
def test_campaign_findings_stay_fixed(
    target: malformed.Target, service: str, operation: str, params: dict[str, object], code: str
) -> None:
    request = wire.sign(wire.serialize(service, operation, params, target.endpoint), service, target.credentials)
    outcome = wire.send(target.host, target.port, request, target.timeout)
    assert outcome.status == 400, f"{operation}: {outcome.status} {outcome.body[:200]!r}"
    assert code.encode() in outcome.body
