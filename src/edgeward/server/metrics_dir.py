"""Where the workers of one `edgeward serve` keep their Prometheus counters (see `server.metrics`).

Kept apart from `server.metrics` on purpose: prometheus_client picks its storage when it is first imported,
so the directory must be chosen before anything imports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess(workers: int) -> Callable[[], None]:
    """Before the workers start: with several workers, a fresh directory for their counters (unless the
    operator chose one with PROMETHEUS_MULTIPROC_DIR). Returns what to call when the server exits."""
    if workers <= 1 or MULTIPROC_ENV in os.environ:
        return lambda: None
    directory = tempfile.mkdtemp(prefix="edgeward-metrics-")
    os.environ[MULTIPROC_ENV] = directory

    def remove() -> None:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)

    return remove
