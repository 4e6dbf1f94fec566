"""SageMaker Edge Manager device fleets, devices, heartbeats, deployments."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
