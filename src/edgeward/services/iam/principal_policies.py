"""The policies that apply to a principal, loaded in one query and compiled once per document text.

`load_for_principal(conn, principal)` is the one function the authorizer calls per request (and the one a
cache wraps); `load_for_owner` serves the policy simulator. For an IAM user: its inline and attached
policies and those of its groups; for a role session: the role's; the permissions boundary; the session
policies (inline document and managed ARNs) of a temporary credential.

Each compiled policy carries the `SourcePolicyId` the simulator reports: the managed policy's name, or
`<user|group|role>_<owner name>_<policy name>` for an inline policy (AWS's own form).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection

from edgeward.core.principal import Principal, PrincipalKind
from edgeward.policy import Policy, PolicyError, cached_policy
from edgeward.services.iam.managed import aws_managed_policy, is_aws_managed_arn
from edgeward.storage.repos import policies as policy_repo
from edgeward.storage.repos.policies import StoredDocument

# What AWS's simulator sends as `SourcePolicyType` on the wire for IAM policies (the model's enum says
# user/group/role/aws-managed/user-managed, but the service answers with these).
IAM_POLICY = "IAM Policy"
RESOURCE_POLICY = "Resource Policy"
SESSION_POLICY_ID = "SessionPolicy"


@dataclass(frozen=True, slots=True)
class SourcedPolicy:
    """A compiled policy and where it came from (for simulation results and exclusions)."""

    policy: Policy
    text: str
    kind: str  # 'inline' | 'aws-managed' | 'user-managed' (also for boundaries and session policies)
    name: str  # the policy's name (inline or managed)
    arn: str | None = None  # managed policies
    owner_type: str = ""  # inline policies: 'user' | 'group' | 'role'
    owner_name: str = ""


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Everything evaluation needs about a caller; `boundary`/`session` are None when it has none."""

    identity: tuple[SourcedPolicy, ...] = ()
    boundary: tuple[SourcedPolicy, ...] | None = None
    session: tuple[SourcedPolicy, ...] | None = None

    @property
    def identity_policies(self) -> list[Policy]:
        return [p.policy for p in self.identity]

    @property
    def boundary_policies(self) -> list[Policy] | None:
        return None if self.boundary is None else [p.policy for p in self.boundary]

    @property
    def session_policies(self) -> list[Policy] | None:
        return None if self.session is None else [p.policy for p in self.session]


EMPTY = PolicySet()


@lru_cache(maxsize=4096)
def compiled(text: str, source_id: str, source_type: str = IAM_POLICY) -> Policy | None:
    """The compiled document tagged with its source, memoized; None if a stored document does not compile
    (documents are validated when written, so this means a damaged row: it grants nothing)."""
    try:
        return cached_policy(text).with_source(source_id, source_type)
    except PolicyError:
        return None


def load_for_principal(conn: Connection, principal: Principal) -> PolicySet:
    """The caller's identity policies, permissions boundary and session policies (one query)."""
    owner = _owner_of(principal)
    session_arns = tuple(principal.session_policy_arns)
    has_session = principal.session_policy is not None or bool(session_arns)
    if owner is None and not has_session and principal.boundary_arn is None:
        return EMPTY
    owner_type, owner_id, owner_name = owner if owner is not None else ("", None, "")
    wanted = [a for a in (principal.boundary_arn, *session_arns) if a and not is_aws_managed_arn(a)]
    rows = _rows(conn, owner_type, owner_id, wanted)
    managed = {row.name: row.document for row in rows if row.source == "managed" and row.document is not None}
    session: tuple[SourcedPolicy, ...] | None = None
    if has_session:
        session = tuple(_session(principal.session_policy, session_arns, managed))
    return PolicySet(
        identity=tuple(_identity(rows, owner_name)),
        boundary=_boundary(principal.boundary_arn, managed),
        session=session,
    )


def load_for_owner(
    conn: Connection, owner_type: str, owner_id: int, owner_name: str, boundary_arn: str | None
) -> PolicySet:
    """The policies of a user (with its groups'), group or role, for the policy simulator."""
    wanted = [boundary_arn] if boundary_arn and not is_aws_managed_arn(boundary_arn) else []
    rows = _rows(conn, owner_type, owner_id, wanted)
    managed = {row.name: row.document for row in rows if row.source == "managed" and row.document is not None}
    return PolicySet(identity=tuple(_identity(rows, owner_name)), boundary=_boundary(boundary_arn, managed))


def _rows(conn: Connection, owner_type: str, owner_id: int | None, wanted: Sequence[str]) -> list[StoredDocument]:
    if owner_id is None:
        if not wanted:
            return []
        documents = policy_repo.default_documents(conn, _account_of(wanted[0]), wanted)
        return [StoredDocument("managed", "", "", arn, text) for arn, text in documents.items()]
    return policy_repo.principal_documents(
        conn, owner_type, owner_id, with_groups=owner_type == "user", managed_arns=wanted
    )


def _owner_of(principal: Principal) -> tuple[str, int, str] | None:
    """('user' | 'role', entity id, name) of the IAM identity whose policies apply; None for root."""
    if principal.entity_id is None or principal.kind is PrincipalKind.ROOT:
        return None
    if principal.kind is PrincipalKind.ASSUMED_ROLE:
        return "role", principal.entity_id, _role_name(principal)
    if principal.kind is PrincipalKind.FEDERATED_USER:
        return "user", principal.entity_id, (principal.parent_arn or "").rsplit("/", 1)[-1]
    return "user", principal.entity_id, principal.name


def _role_name(principal: Principal) -> str:
    if principal.parent_arn:
        return principal.parent_arn.rsplit("/", 1)[-1]
    # arn:aws:sts::<account>:assumed-role/<role>/<session>
    parts = principal.arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) >= 3 else principal.name


def _account_of(policy_arn: str) -> str:
    return policy_arn.split(":", 5)[4] if policy_arn.count(":") >= 5 else ""


def _identity(rows: Iterable[StoredDocument], owner_name: str) -> Iterable[SourcedPolicy]:
    for row in rows:
        if row.source == "inline" and row.document is not None:
            name = row.owner_name or owner_name
            source = f"{row.owner_type}_{name}_{row.name}"
            policy = compiled(row.document, source)
            if policy is not None:
                yield SourcedPolicy(policy, row.document, "inline", row.name, None, row.owner_type, name)
        elif row.source == "attached":
            found = _managed(row.name, {row.name: row.document} if row.document is not None else {})
            if found is not None:
                yield found


def _managed(arn: str, documents: dict[str, str]) -> SourcedPolicy | None:
    entry = aws_managed_policy(arn)
    if entry is not None:
        text, name, kind = entry.document, entry.name, "aws-managed"
    elif arn in documents:
        text, name, kind = documents[arn], arn.rsplit("/", 1)[-1], "user-managed"
    else:
        return None  # an AWS managed policy edgeward does not know, or one deleted meanwhile
    policy = compiled(text, name)
    return None if policy is None else SourcedPolicy(policy, text, kind, name, arn)


def _boundary(arn: str | None, documents: dict[str, str]) -> tuple[SourcedPolicy, ...] | None:
    if arn is None:
        return None
    found = _managed(arn, documents)
    return () if found is None else (found,)  # a boundary that cannot be read allows nothing


def _session(document: str | None, arns: Sequence[str], documents: dict[str, str]) -> Iterable[SourcedPolicy]:
    if document is not None:
        policy = compiled(document, SESSION_POLICY_ID)
        if policy is not None:
            yield SourcedPolicy(policy, document, "inline", SESSION_POLICY_ID)
    for arn in arns:
        found = _managed(arn, documents)
        if found is not None:
            yield found
