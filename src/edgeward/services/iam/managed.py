"""AWS managed policies: a fixed catalogue (AWS's ARNs, ids, dates and documents), attachable, not editable.

The documents are AWS's own, kept as data in `aws_managed_policies.json` (policy name -> path, PolicyId,
description, creation and update dates, default version and document). Each policy has just its default
version here. They belong to the pseudo-account `aws`: every account can read and attach them, none can
change them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import Connection

from edgeward.storage.repos import policies as policy_repo

AWS_ACCOUNT = "aws"
ARN_PREFIX = "arn:aws:iam::aws:policy/"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
_DATA_FILE = "aws_managed_policies.json"


@dataclass(frozen=True, slots=True)
class AwsManagedPolicy:
    name: str
    path: str
    arn: str
    policy_id: str
    description: str
    created_at: datetime
    updated_at: datetime
    version_id: str
    document: str


def _moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _entry(name: str, data: dict[str, Any]) -> AwsManagedPolicy:
    path = data["path"]
    return AwsManagedPolicy(
        name=name,
        path=path,
        arn=f"{ARN_PREFIX}{path[1:]}{name}",
        policy_id=data["id"],
        description=data["description"],
        created_at=_moment(data["created"]),
        updated_at=_moment(data["updated"]),
        version_id=data["version"],
        document=json.dumps(data["document"], indent=2),
    )


@cache
def _catalogue() -> dict[str, AwsManagedPolicy]:
    raw = json.loads(resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8"))
    entries = (_entry(name, data) for name, data in raw.items())
    return {entry.arn: entry for entry in entries}


def aws_managed_policy(policy_arn: str) -> AwsManagedPolicy | None:
    return _catalogue().get(policy_arn)


def aws_managed_policies() -> list[AwsManagedPolicy]:
    """The whole catalogue, by name."""
    return sorted(_catalogue().values(), key=lambda p: p.name.lower())


def is_aws_managed_arn(policy_arn: str) -> bool:
    """True for any ARN in AWS's policy namespace, whether edgeward knows that policy or not."""
    return policy_arn.startswith(ARN_PREFIX)


def managed_policy_document(policy_arn: str) -> str | None:
    """The document of an AWS managed policy (None for any other ARN)."""
    found = _catalogue().get(policy_arn)
    return None if found is None else found.document


def policy_document(conn: Connection, account: str, policy_arn: str) -> str | None:
    """The effective document of a managed policy usable in `account`: AWS managed, or customer managed of
    that account (its default version). None when there is no such policy."""
    found = managed_policy_document(policy_arn)
    if found is not None:
        return found
    return policy_repo.default_document(conn, account, policy_arn)
