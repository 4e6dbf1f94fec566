"""SageMaker Edge deployment plans, stages, device deployments and registered model packages."""

from __future__ import annotations

from edgeward.storage.tables import metadata  # noqa: F401
