"""CPU accounting from /proc: the servers' own CPU time, and how much of the machine something else used."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Snapshot:
    wall: float  # time.monotonic()
    machine_busy: int  # jiffies all cores spent not idle, since boot
    machine_total: int  # jiffies of all cores, since boot
    group_s: float  # CPU seconds of the watched process group


@dataclass(frozen=True)
class Usage:
    wall_s: float
    machine_cores: float  # cores the whole machine kept busy on average
    group_s: float  # CPU seconds the process group used


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies since boot. Busy is user + nice + system + steal: interrupt and softirq time is left
    out, as the loopback traffic of a run itself lands there without being charged to any process."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    busy = user + nice + system + steal
    return busy, busy + idle + iowait + irq + softirq


def group_seconds(pgid: int) -> float:
    """User + system CPU time of the live processes of a process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == pgid:  # after "(comm)": state ppid pgrp ... utime [11] stime [12]
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def snapshot(pgid: int) -> Snapshot:
    busy, total = _machine_jiffies()
    return Snapshot(time.monotonic(), busy, total, group_seconds(pgid))


def since(start: Snapshot, pgid: int) -> Usage:
    end = snapshot(pgid)
    busy, total = end.machine_busy - start.machine_busy, end.machine_total - start.machine_total
    return Usage(end.wall - start.wall, CORES * busy / max(1, total), end.group_s - start.group_s)


def busy_cores(seconds: float = 1.0) -> float:
    """Cores the machine kept busy over the next `seconds` (while the servers idle: other people's load)."""
    busy0, total0 = _machine_jiffies()
    time.sleep(seconds)
    busy1, total1 = _machine_jiffies()
    return CORES * (busy1 - busy0) / max(1, total1 - total0)
