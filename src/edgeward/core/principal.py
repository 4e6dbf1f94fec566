"""Who is calling: the authenticated identity a request acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class PrincipalKind(Enum):
    ROOT = "root"
    USER = "user"
    ASSUMED_ROLE = "assumed-role"
    FEDERATED_USER = "federated-user"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    `arn` is the caller ARN used in denials (`User: <arn> is not authorized ...`), `user_id` is what
    GetCallerIdentity returns as UserId (account id for root, `AIDA...` for users, `AROA...:<session>` for
    role sessions). `entity_id` is the database id of the user or role behind it (None for root).
    """

    kind: PrincipalKind
    account: str
    arn: str
    user_id: str
    name: str
    access_key_id: str
    entity_id: int | None = None
    session_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # The IAM entity behind a session: the role ARN of an assumed-role session, the user's for GetSessionToken.
    parent_arn: str | None = None
    # Permissions boundary (a managed policy ARN) of the user or role, when one is set.
    boundary_arn: str | None = None
    # Session policies passed to AssumeRole (inline document and managed policy ARNs).
    session_policy: str | None = None
    session_policy_arns: tuple[str, ...] = ()
    mfa: bool = False
    token_issued_at: datetime | None = None
    # Extra condition keys the session carries (e.g. credentials-iot:ThingName from the credentials provider).
    session_context: dict[str, str] = field(default_factory=dict)

    @property
    def is_session(self) -> bool:
        return self.kind in (PrincipalKind.ASSUMED_ROLE, PrincipalKind.FEDERATED_USER) or self.access_key_id.startswith(
            "ASIA"
        )

    @property
    def is_root(self) -> bool:
        return self.kind is PrincipalKind.ROOT
