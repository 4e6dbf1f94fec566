"""SageMaker Edge deployment plans, stages, device deployments and registered model packages.

- `sagemaker_edge_packaging_jobs`: model artifacts an operator registered as COMPLETED packaging jobs
  (edgeward does not compile models; `edgeward models register` records one that was packaged elsewhere).
- `sagemaker_edge_deployment_plans`: a plan targets one fleet (CASCADE: a fleet can only go once its devices
  are deregistered, and its plans mean nothing without it). `fleet_name` is kept for sorting and listing.
- `sagemaker_edge_deployment_stages`: ordered by id. `state` is what the operator did (READYTODEPLOY, STARTED,
  STOPPED); the StageStatus AWS reports is derived from it and the device deployments' statuses. The model
  definitions devices receive are resolved from the plan's packaging jobs when the stage starts.
- `sagemaker_edge_device_deployments`: one row per (stage, device) once a stage starts; status INPROGRESS until
  the device reports DEPLOYED or FAILED in a heartbeat, STOPPED when the stage is stopped first. Deregistering a
  device deletes its rows (CASCADE).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from edgeward.storage.tables import ACCOUNT_ID, NAME_KEY, metadata
from edgeward.storage.types import JsonText, UtcDateTime

sagemaker_edge_packaging_jobs = Table(
    "sagemaker_edge_packaging_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("arn", Text, nullable=False),
    Column("model_name", NAME_KEY, nullable=False),
    Column("model_version", Text, nullable=False),
    Column("model_artifact", Text, nullable=False),
    Column("sha1", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("status_message", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_modified_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "region", "name"),
    sqlite_autoincrement=True,
)

sagemaker_edge_deployment_plans = Table(
    "sagemaker_edge_deployment_plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("arn", Text, nullable=False),
    Column("fleet_id", Integer, ForeignKey("sagemaker_device_fleets.id", ondelete="CASCADE"), nullable=False),
    Column("fleet_name", NAME_KEY, nullable=False),
    # [{ModelHandle, EdgePackagingJobName}] as CreateEdgeDeploymentPlan received them.
    Column("model_configs", JsonText, nullable=False),
    Column("tags", JsonText, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_modified_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "region", "name"),
    Index(None, "fleet_id"),
    sqlite_autoincrement=True,
)

sagemaker_edge_deployment_stages = Table(
    "sagemaker_edge_deployment_stages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("sagemaker_edge_deployment_plans.id", ondelete="CASCADE"), nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("selection", JsonText, nullable=False),  # DeviceSelectionConfig
    Column("failure_policy", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("definitions", JsonText, nullable=True),  # GetDeployments' Definitions, fixed when the stage starts
    Column("started_at", UtcDateTime, nullable=True),
    UniqueConstraint("plan_id", "name"),
    CheckConstraint("state IN ('READYTODEPLOY', 'STARTED', 'STOPPED')", name="state"),
    sqlite_autoincrement=True,
)

sagemaker_edge_device_deployments = Table(
    "sagemaker_edge_device_deployments",
    metadata,
    Column("stage_id", Integer, ForeignKey("sagemaker_edge_deployment_stages.id", ondelete="CASCADE"), nullable=False),
    Column("device_id", Integer, ForeignKey("sagemaker_devices.id", ondelete="CASCADE"), nullable=False),
    Column("status", Text, nullable=False),
    Column("status_message", Text, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("stage_id", "device_id"),
    CheckConstraint("status IN ('INPROGRESS', 'DEPLOYED', 'FAILED', 'STOPPED')", name="status"),
    Index(None, "device_id", "status"),
)
