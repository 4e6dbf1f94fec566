"""The installation's `deeplens` SageMaker Edge device fleet, which every registered DeepLens device joins.

Being a SageMaker device is what lets `edgeward-agent run` send heartbeats unchanged (sagemaker-edge
SendHeartbeat), and what the Online/Offline status is read from. The fleet is edgeward's own, made on the
first registration like a service-linked resource: registering needs `sagemaker:RegisterDevices` on it, not
`sagemaker:CreateDeviceFleet`. It has no role (devices get credentials through their own role alias) and its
output location names a bucket `edgeward-deeplens-<account>` for captured data, should an operator create it.
"""

from __future__ import annotations

import contextlib

from edgeward.core import clock
from edgeward.services.context import Context
from edgeward.services.deeplens.names import FLEET
from edgeward.services.sagemaker.names import fleet_arn
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import sagemaker_fleets as fleet_repo

DESCRIPTION = "DeepLens devices registered through edgeward (made by the first registration)"


def ensure_fleet(ctx: Context) -> None:
    """Create the fleet unless it exists; a concurrent first registration creating it too is fine."""
    if fleet_repo.get_fleet(ctx.conn, ctx.account, ctx.region, FLEET) is not None:
        return
    now = clock.now()
    values = {
        "account_id": ctx.account,
        "region": ctx.region,
        "name": FLEET,
        "arn": fleet_arn(ctx, FLEET),
        "description": DESCRIPTION,
        "role_arn": None,
        "output_config": {"S3OutputLocation": f"s3://edgeward-deeplens-{ctx.account}/capture"},
        "iot_role_alias": None,
        "tags": {},
        "created_at": now,
        "last_modified_at": now,
    }
    with contextlib.suppress(storage_errors.AlreadyExists):
        fleet_repo.create_fleet(ctx.conn, values)
