"""Managed policy ARNs and the one view of a managed policy, AWS managed or customer managed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import Connection

from edgeward.core.errors import ServiceError
from edgeward.services.iam import errors
from edgeward.services.iam.managed import AwsManagedPolicy, aws_managed_policy
from edgeward.storage.repos import policies as policy_repo
from edgeward.storage.repos.policies import PolicyRecord

# arn:aws:iam::<account | aws>:policy<path><name>
_POLICY_ARN = re.compile(r"^arn:aws:iam::(aws|\d{12}):policy(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]{1,128})$")


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A managed policy as the IAM operations show it; `record` is set for customer managed ones."""

    arn: str
    name: str
    path: str
    policy_id: str
    description: str | None
    default_version_id: str
    created_at: datetime
    updated_at: datetime
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    record: PolicyRecord | None = None

    @property
    def aws_managed(self) -> bool:
        return self.record is None


def invalid_arn(arn: str) -> ServiceError:
    return errors.invalid_input(f"ARN {arn} is not valid.")


def check_arn(arn: str) -> None:
    """InvalidInput in IAM's words unless `arn` has the form of a managed policy ARN."""
    if _POLICY_ARN.match(arn) is None:
        raise invalid_arn(arn)


def of_aws(entry: AwsManagedPolicy) -> ManagedPolicy:
    return ManagedPolicy(
        arn=entry.arn,
        name=entry.name,
        path=entry.path,
        policy_id=entry.policy_id,
        description=entry.description,
        default_version_id=entry.version_id,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


def of_record(record: PolicyRecord) -> ManagedPolicy:
    return ManagedPolicy(
        arn=record.arn,
        name=record.name,
        path=record.path,
        policy_id=record.unique_id,
        description=record.description,
        default_version_id=record.default_version_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        tags=record.tags,
        record=record,
    )


def find(conn: Connection, account: str, arn: str, *, lock: bool = False) -> ManagedPolicy | None:
    """The AWS managed policy, or the customer managed policy of `account`, with this ARN."""
    entry = aws_managed_policy(arn)
    if entry is not None:
        return of_aws(entry)
    record = policy_repo.get_policy(conn, account, arn, lock=lock)
    return None if record is None else of_record(record)


def not_found(arn: str) -> ServiceError:
    return errors.no_such_entity(f"Policy {arn} was not found.")


def not_attachable(arn: str) -> ServiceError:
    return errors.no_such_entity(f"Policy {arn} does not exist or is not attachable.")
