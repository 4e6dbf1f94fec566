"""SageMaker Edge Manager device fleets and devices (owned by the SageMaker work).

Fleets and devices are regional, as in AWS: names are unique per (account, region). A device name is unique
across the account's fleets in a region, so one name cannot sit in two fleets.

A fleet cannot be deleted while it has devices: the devices' foreign key is RESTRICT, so the database refuses
the delete even when a concurrent RegisterDevices slips in between a check and the delete.

The latest heartbeat lives on the device row itself (agent version, models, metrics, deployment result), so
a heartbeat is one UPDATE. `model_names` repeats the reported model names between unit separators
(`\\x1fa\\x1fb\\x1f`) so ListDevices can filter "has a model whose name contains X" with one LIKE.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text, UniqueConstraint

from edgeward.storage.tables import ACCOUNT_ID, NAME_KEY, metadata
from edgeward.storage.types import JsonText, UtcDateTime

sagemaker_device_fleets = Table(
    "sagemaker_device_fleets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("arn", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("role_arn", Text, nullable=True),
    Column("output_config", JsonText, nullable=False),
    # The ARN of the IoT role alias CreateDeviceFleet made (SageMakerEdge-<fleet>), if it made one.
    Column("iot_role_alias", Text, nullable=True),
    Column("tags", JsonText, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_modified_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "region", "name"),
    sqlite_autoincrement=True,
)

sagemaker_devices = Table(
    "sagemaker_devices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ACCOUNT_ID, ForeignKey("accounts.account_id"), nullable=False),
    Column("region", Text, nullable=False),
    Column("fleet_id", Integer, ForeignKey("sagemaker_device_fleets.id", ondelete="RESTRICT"), nullable=False),
    Column("name", NAME_KEY, nullable=False),
    Column("description", Text, nullable=True),
    Column("iot_thing_name", Text, nullable=True),
    Column("tags", JsonText, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("latest_heartbeat", UtcDateTime, nullable=True),
    Column("agent_version", Text, nullable=True),
    Column("models", JsonText, nullable=True),
    Column("model_names", Text, nullable=True),
    Column("agent_metrics", JsonText, nullable=True),
    Column("deployment_result", JsonText, nullable=True),
    UniqueConstraint("account_id", "region", "name"),
    Index(None, "fleet_id", "name"),
)
