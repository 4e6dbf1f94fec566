"""A fuzz campaign against a running edgeward: broken inputs for every implemented operation (param-level from
the shapes, byte-level in the body) and malformed HTTP, each with a deadline; the server's RSS sampled throughout.

A case fails when the reply is a 5xx, when no reply comes to a well-formed request, or when the deadline passes
(a hang). Failures keep the exact bytes sent, so they can be replayed.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgeward.protocol.catalog import operation_model, protocol_of
from tests.fuzzgen import overrides
from tests.fuzzgen.draw import examples
from tests.fuzzgen.malformed import HttpCase, Target
from tests.fuzzgen.mutate import KINDS, Broken, broken_input
from tests.fuzzgen.shapes import RICH, input_strategy
from tests.fuzzgen.wire import (
    Outcome,
    RawRequest,
    mutate_json,
    mutate_query,
    mutate_xml,
    send,
    sendable,
    serialize,
    sign,
    with_body,
)


@dataclass
class Case:
    name: str
    kind: str
    request: RawRequest | None = None  # a well-formed HTTP request
    http: HttpCase | None = None  # or a malformed-HTTP case that sends itself


@dataclass
class Failure:
    case: str
    kind: str
    reason: str
    status: int | None
    seconds: float
    error: str
    reply: str
    request: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    cases: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    skipped: int = 0  # inputs botocore's serializer could not put on the wire at all
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"{self.cases} cases in {self.seconds:.1f} s, {len(self.failures)} failed, {self.skipped} unsendable"]
        lines.append("by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(self.kinds.items())))
        lines.append("replies: " + ", ".join(f"{k} {n}" for k, n in sorted(self.statuses.items())))
        if self.rss_kib:
            mib = [kib / 1024 for kib in self.rss_kib]
            lines.append(f"server RSS MiB: start {mib[0]:.0f}, max {max(mib):.0f}, end {mib[-1]:.0f}")
        reasons = Counter(failure.reason for failure in self.failures)
        lines += [f"FAIL {reason}: {count}" for reason, count in reasons.most_common()]
        return "\n".join(lines)


# -- generating cases -----------------------------------------------------------------------------------------


def shape_cases(
    target: Target, account: str, operations: Sequence[tuple[str, str]], per_operation: int, seed: int
) -> Iterator[Case]:
    """Param-level breakage (missing, oversized, odd Unicode, pattern, numbers, wrong types), via botocore."""
    for position, (service, operation) in enumerate(operations):
        model = operation_model(service, operation)
        pinned = _pinned(service, operation, account)
        drawn: list[Broken] = []
        for turn in range(per_operation):  # every kind of breakage in turn, starting where the last op stopped
            kind = KINDS[(position + turn) % len(KINDS)]
            # The first example Hypothesis draws is the simplest; the second has some flesh on it.
            drawn += examples(broken_input(model, pinned, kind), 2, seed + turn)[-1:]
        for index, broken in enumerate(drawn):
            name = f"{service}:{operation} {broken.kind} {broken.where} #{index}"
            try:
                request = sign(
                    serialize(service, operation, broken.params, target.endpoint), service, target.credentials
                )
            except Exception:
                yield Case(name, "unsendable")
                continue
            yield Case(name, f"shape:{broken.kind}" if sendable(request) else "unsendable", request=request)


def wire_cases(
    target: Target, account: str, operations: Sequence[tuple[str, str]], per_operation: int, seed: int
) -> Iterator[Case]:
    """Byte-level breakage of a valid request's body: wrong JSON types, broken query pairs, broken XML."""
    rng = random.Random(seed)
    mutators: dict[str, Callable[[bytes, random.Random], bytes]] = {
        "json": mutate_json,
        "rest-json": mutate_json,
        "query": mutate_query,
        "rest-xml": mutate_xml,
    }
    for service, operation in operations:
        model = operation_model(service, operation)
        valid = examples(input_strategy(model, RICH, _pinned(service, operation, account)), per_operation, seed)
        mutate = mutators[protocol_of(service)]
        for index, params in enumerate(valid):
            try:
                request = serialize(service, operation, params, target.endpoint)
                body = request.body if isinstance(request.body, bytes) else (request.body or b"")
                if isinstance(body, str):
                    body = body.encode()
                if not isinstance(body, bytes):
                    body = b""
                raw = sign(with_body(request, mutate(body, rng)), service, target.credentials)
            except Exception:
                yield Case(f"{service}:{operation} wire #{index}", "unsendable")
                continue
            yield Case(f"{service}:{operation} wire #{index}", "wire", request=raw)


def http_cases(cases: Iterable[HttpCase]) -> Iterator[Case]:
    for case in cases:
        yield Case(case.name, "http", http=case)


def _pinned(service: str, operation: str, account: str) -> dict[str, Any]:
    shape = operation_model(service, operation).input_shape
    present = set(shape.members) if shape is not None else set()
    return overrides.members(service, operation, present, account)


# -- running them ---------------------------------------------------------------------------------------------


def verdict(case: Case, outcome: Outcome) -> str | None:
    """Why `outcome` is a failure, or None."""
    if outcome.timed_out:
        return "hang (no reply before the deadline)"
    if outcome.error.startswith(CLIENT_ERROR):
        return None
    closing_ok = case.http is not None and case.http.closing_ok
    if outcome.status is None:
        return None if closing_ok else f"no reply ({outcome.error})"
    if outcome.status >= 500 and not (closing_ok and outcome.status == 501):
        return f"HTTP {outcome.status}"
    return None


CLIENT_ERROR = "client could not send: "


def execute(case: Case, target: Target) -> Outcome:
    try:
        if case.http is not None:
            return case.http.run(target)
        assert case.request is not None
        return send(target.host, target.port, case.request, target.timeout)
    except (ValueError, UnicodeError) as error:  # our HTTP client's refusal, not the server's doing
        return Outcome(None, 0.0, error=f"{CLIENT_ERROR}{error}")


def run(cases: Iterable[Case], target: Target, *, server_pid: int, workers: int = 4, health_every: int = 500) -> Report:
    report = Report()
    sampler = RssSampler(server_pid)
    sampler.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(workers) as pool:
            batch: list[Case] = []
            for case in cases:
                if case.kind == "unsendable":
                    report.skipped += 1
                    continue
                batch.append(case)
                if len(batch) >= health_every:
                    if not _run_batch(pool, batch, target, report):
                        break
                    batch = []
            if batch:
                _run_batch(pool, batch, target, report)
    finally:
        report.seconds = time.monotonic() - started
        report.rss_kib = sampler.stop()
    return report


def _run_batch(pool: ThreadPoolExecutor, batch: list[Case], target: Target, report: Report) -> bool:
    for case, outcome in zip(batch, pool.map(lambda c: execute(c, target), batch), strict=True):
        if outcome.error.startswith(CLIENT_ERROR):
            report.skipped += 1
            continue
        report.cases += 1
        report.kinds[case.kind] += 1
        report.statuses[str(outcome.status) if outcome.status else "closed"] += 1
        reason = verdict(case, outcome)
        if reason is not None:
            report.failures.append(_failure(case, outcome, reason))
    health = send(target.host, target.port, RawRequest("GET", "/_edgeward/health", {}, b""), target.timeout)
    if health.status != 200:
        report.failures.append(
            Failure("health check", "health", f"server unhealthy: {health}", health.status, 0, "", "")
        )
        return False
    return True


def _failure(case: Case, outcome: Outcome, reason: str) -> Failure:
    request: dict[str, Any] = {}
    if case.request is not None:
        body = case.request.body
        request = {
            "method": case.request.method,
            "target": case.request.target[:4000],
            "headers": case.request.headers,
            "body_length": len(body),
            "body_base64": base64.b64encode(body[:65536]).decode(),
        }
    reply = outcome.body[:1000].decode("utf-8", "replace")
    return Failure(
        case.name, case.kind, reason, outcome.status, round(outcome.seconds, 3), outcome.error, reply, request
    )


def write_failures(report: Report, path: Path) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for failure in report.failures:
            out.write(json.dumps(asdict(failure)) + "\n")


# -- memory ---------------------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident memory of `pid` and its child processes, in KiB (Linux /proc)."""
    total = 0
    for each in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class RssSampler:
    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self.samples.append(rss_kib(self.pid))
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(rss_kib(self.pid))

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_kib(self.pid))
        return self.samples
