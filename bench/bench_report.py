"""The comparison table and the JSON record of a run."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_requests import Workload
from bench_wrk import WrkResult

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = ("workload", "edgeward req/s", "p99", "MiniStack req/s", "p99", "ratio", "target", "met?")


@dataclass(frozen=True)
class Row:
    workload: Workload
    edgeward: WrkResult | None
    ministack: WrkResult | None

    @property
    def ratio(self) -> float | None:
        if self.edgeward is None or self.ministack is None or self.ministack.requests_per_s == 0:
            return None
        return self.edgeward.requests_per_s / self.ministack.requests_per_s

    @property
    def met(self) -> str:
        if self.edgeward is None or self.ministack is None:
            return "n/a"
        if not (self.edgeward.valid and self.ministack.valid):
            return "INVALID"
        return "yes" if (self.ratio or 0.0) >= self.workload.target else "NO"


def _rps(result: WrkResult | None) -> str:
    if result is None:
        return "-"
    return f"{result.requests_per_s:,.0f}" + ("" if result.valid else " (ERR)")


def _p99(result: WrkResult | None) -> str:
    return "-" if result is None else f"{result.p99_ms:.1f} ms"


def _cells(row: Row) -> tuple[str, ...]:
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
    return (
        row.workload.name,
        _rps(row.edgeward),
        _p99(row.edgeward),
        _rps(row.ministack),
        _p99(row.ministack),
        ratio,
        f">= {row.workload.target:.0f}x",
        row.met,
    )


def table(rows: list[Row]) -> str:
    lines = [COLUMNS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    text = [_line(line, widths) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    """The workload name left-aligned, the figures right-aligned."""
    return "  ".join(
        cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
    )


def cpu_line(rows: list[Row]) -> str:
    """Server CPU time per request (all its processes): less sensitive to other load on the machine than req/s."""
    parts = []
    for row in rows:
        edgeward, ministack = (f"{r.cpu_ms_per_request:.2f}" if r else "-" for r in (row.edgeward, row.ministack))
        parts.append(f"{row.workload.name.split()[1]} {edgeward} / {ministack}")
    return "server CPU ms per request, edgeward / MiniStack: " + "; ".join(parts)


def errors(rows: list[Row]) -> list[str]:
    """One line for each run that had failed responses: such a figure is not valid."""
    found = []
    for row in rows:
        for server, result in (("edgeward", row.edgeward), ("MiniStack", row.ministack)):
            if result is not None and not result.valid:
                found.append(
                    f"{server} / {row.workload.name}: {result.non2xx} non-2xx, "
                    f"{result.socket_errors} socket errors of {result.requests}; "
                    f"first failure: {result.first_bad}"
                )
    return found


def busy_runs(rows: list[Row], threshold: float) -> list[str]:
    """One line for each run during or just before which something else used more than `threshold` cores."""
    found = []
    for row in rows:
        for server, result in (("edgeward", row.edgeward), ("MiniStack", row.ministack)):
            if result is not None and result.other_load_cores > threshold:
                found.append(
                    f"{server} / {row.workload.name}: other load {result.busy_cores_before:.2f} cores before, "
                    f"{result.other_load_during:.2f} during"
                )
    return found


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "platform": platform.platform(), "python": platform.python_version()}


def _git_revision() -> str:
    """The commit of the work tree measured (`-dirty` when it had uncommitted changes)."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, timeout=30, cwd=RESULTS_DIR.parent
    )
    return done.stdout.strip() or "unknown"


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=30)
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "unknown"


def save(rows: list[Row], settings: dict[str, Any], versions: dict[str, str]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "taken_at": stamp,
        "settings": settings,
        "machine": machine(),
        "versions": {**versions, "wrk": _wrk_version(), "git": _git_revision()},
        "workloads": [
            {
                "workload": r.workload.name,
                "kind": r.workload.kind,
                "target_ratio": r.workload.target,
                "edgeward": r.edgeward.to_json() if r.edgeward else None,
                "ministack": r.ministack.to_json() if r.ministack else None,
                "ratio": r.ratio,
                "met": r.met,
            }
            for r in rows
        ],
    }
    path = RESULTS_DIR / f"throughput-{stamp}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
