"""The exchange: a device certificate and a role alias in, temporary credentials of the alias's role out.

The checks run in the order AWS's credentials endpoint runs them (spec 1.4), each refusal in its words:
1. the certificate is registered, ACTIVE (and so is its CA, when registered with one) — 403;
2. the role alias is well formed — 400;
3. a thing named by `x-amzn-iot-thingname` exists and is attached to the certificate — 403;
4. the certificate's IoT policies allow `iot:AssumeRoleWithCertificate` on the alias ARN — 403 `Access Denied`;
   this comes before the alias's existence, so a device learns nothing about aliases it may not use;
5. the alias exists — 404;
6. the role exists and its trust policy trusts `credentials.iot.amazonaws.com` — 400;
7. the alias's duration fits the role's MaxSessionDuration (re-checked here: the role may have changed) — 400.
Then an assumed-role session named after the certificate id, carrying `credentials-iot:*` context keys that
the role's policies can test.

Everything is read on the request's own connection, inside its write transaction: a certificate revoked a
moment ago is refused on its next request, on every node, because nothing here is cached across requests.
A device that does not name its thing costs two reads (`lookup`) and the session insert.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from edgeward.core import arn as arns
from edgeward.core import clock
from edgeward.credentials import errors, lookup
from edgeward.credentials.lookup import AliasRole
from edgeward.credentials.request import CredentialsRequest, check_role_alias, is_thing_name
from edgeward.credentials.variables import certificate_variables, thing_variables
from edgeward.policy import Caller, ContextValue, PolicyError, PolicyKind, Request, cached_policy, evaluate
from edgeward.services.deeplens.first_use import note_exchange
from edgeward.services.iot import policy_eval
from edgeward.services.sts.credentials import Credentials, Material, issue_credentials
from edgeward.storage.repos import iot_things, roles, sessions
from edgeward.storage.secrets import SecretBox

CREDENTIALS_SERVICE = "credentials.iot.amazonaws.com"
ASSUME_ROLE_WITH_CERTIFICATE = "iot:AssumeRoleWithCertificate"
ASSUME_ROLE = "sts:AssumeRole"
ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class Thing:
    """The thing a device named, once it is known to be attached to the device's certificate."""

    name: str
    thing_type_name: str | None
    attributes: dict[str, str]


def exchange(
    conn: Connection,
    box: SecretBox,
    request: CredentialsRequest,
    *,
    region: str,
    now: datetime | None = None,
    material: Material | None = None,
) -> Credentials:
    """Run the checks and issue the credentials; raises `ProviderError` with AWS's status and message.
    `material`: the new session's key, secret and token, made before the transaction (see `Material`)."""
    device = lookup.device(conn, request.certificate_id, request.role_alias)
    if device is None or device.status != ACTIVE:
        raise errors.invalid_certificate()
    if device.ca_certificate_id is not None and device.ca_status != ACTIVE:
        raise errors.invalid_certificate()
    account = device.account
    check_role_alias(request.role_alias)
    thing = _attached_thing(conn, account, device.certificate_arn, request.thing_name)
    alias = device.alias
    # A missing alias is only admitted once the policy allowed it, so the ARN is built for the check.
    alias_arn = (
        alias.arn if alias is not None else arns.build("iot", region, account, f"rolealias/{request.role_alias}")
    )
    _authorize(conn, account, device.certificate_arn, request, thing, alias_arn)
    if alias is None:
        raise errors.role_alias_not_found()
    role = alias.role or _role_by_arn(conn, account, alias.role_arn)
    if role is None or not _trusts_provider(role, account, alias_arn):
        raise errors.cannot_assume_role()
    if alias.credential_duration_seconds > role.max_session_duration:
        raise errors.duration_exceeds_role()
    issued_at = now or clock.now()
    credentials = issue_credentials(
        conn,
        box,
        account=account,
        kind=sessions.ASSUMED_ROLE,
        duration_seconds=alias.credential_duration_seconds,
        role_id=role.id,
        session_name=request.certificate_id,
        context=session_context(request.certificate_id, thing),
        now=issued_at,
        material=material,
    )
    _LAST_USED.record(conn, role.id, region, issued_at)
    note_exchange(conn, request.certificate_id, issued_at)  # a DeepLens device's first exchange: Registered
    return credentials


def session_context(certificate_id: str, thing: Thing | None) -> dict[str, str]:
    """The condition keys the session carries into every request it signs (IAM policies only, spec 1.7)."""
    context = {"credentials-iot:AwsCertificateId": certificate_id}
    if thing is not None:
        context["credentials-iot:ThingName"] = thing.name
        if thing.thing_type_name:
            context["credentials-iot:ThingTypeName"] = thing.thing_type_name
    return context


def _attached_thing(conn: Connection, account: str, certificate_arn: str, name: str | None) -> Thing | None:
    if name is None:
        return None
    if not is_thing_name(name):
        raise errors.invalid_thing_name()
    record = iot_things.get_thing(conn, account, name)
    if record is None or not iot_things.is_principal_attached(conn, account, name, certificate_arn):
        raise errors.invalid_thing_name()
    return Thing(record.name, record.thing_type_name, dict(record.attributes))


def _authorize(
    conn: Connection,
    account: str,
    certificate_arn: str,
    request: CredentialsRequest,
    thing: Thing | None,
    alias_arn: str,
) -> None:
    """The certificate's IoT policies (and its thing's groups', when named) must allow the alias."""
    if thing is None:
        documents = lookup.certificate_policies(conn, account, certificate_arn)
    else:
        policies = policy_eval.effective_iot_documents(conn, account, certificate_arn, thing.name)
        documents = [policy.document for policy in policies]
    variables = certificate_variables(request.certificate_id, request.certificate_der)
    if thing is not None:
        variables.update(thing_variables(thing.name, thing.thing_type_name, thing.attributes))
    if not policy_eval.iot_allows(documents, ASSUME_ROLE_WITH_CERTIFICATE, alias_arn, variables):
        raise errors.access_denied()


def _role_by_arn(conn: Connection, account: str, role_arn: str) -> AliasRole | None:
    """IAM's own lookup, for an alias whose stored ARN differs from the role's in letter case only."""
    role = roles.get_role_by_arn(conn, account, role_arn)
    if role is None:
        return None
    return AliasRole(role.id, role.arn, role.trust_policy, role.max_session_duration)


def _trusts_provider(role: AliasRole, account: str, alias_arn: str) -> bool:
    """Whether the role's trust policy lets the credentials provider's service principal assume it."""
    try:
        trust = cached_policy(role.trust_policy, PolicyKind.TRUST)
    except PolicyError:  # validated on write; an unreadable stored document trusts nobody
        return False
    # Keys for confused-deputy conditions in trust policies (aws:SourceAccount / aws:SourceArn).
    context: dict[str, ContextValue] = {"aws:SourceAccount": account, "aws:SourceArn": alias_arn}
    request = Request(Caller.service(CREDENTIALS_SERVICE), ASSUME_ROLE, role.arn, context)
    return evaluate(request, resource_policy=trust).allowed


class _LastUsed:
    """RoleLastUsed has a resolution of minutes: a process writes it at most once a minute per role and
    region, instead of attempting an UPDATE on every exchange."""

    def __init__(self, every_seconds: float = 60.0) -> None:
        self._every = every_seconds
        self._recorded: dict[tuple[int, str], float] = {}
        self._lock = threading.Lock()

    def record(self, conn: Connection, role_id: int, region: str, when: datetime) -> None:
        key, now = (role_id, region), time.monotonic()
        with self._lock:
            if now - self._recorded.get(key, -self._every) < self._every:
                return
            self._recorded[key] = now
        roles.record_last_used(conn, role_id, region, when)


_LAST_USED = _LastUsed()
