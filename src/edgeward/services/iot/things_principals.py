"""Principals attached to things: AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals,
ListPrincipalThings.

A principal is a certificate ARN (`arn:aws:iot:<region>:<account>:cert/<id>`), which must name one of the
account's certificates and is kept in the certificate's own spelling, or another IoT principal (a Cognito
identity), kept as given. Attaching again is harmless (it may change the attachment type); an
`EXCLUSIVE_THING` attachment is the principal's only one.
"""

from __future__ import annotations

from typing import Any

from edgeward.core import arn as arns
from edgeward.services.context import Context
from edgeward.services.iot import errors
from edgeward.services.iot.paging import page_args, page_output
from edgeward.services.iot.things import lookup_thing, require_thing
from edgeward.storage import errors as storage_errors
from edgeward.storage.repos import iot_certificates
from edgeward.storage.repos import iot_things as repo

EXCLUSIVE = "EXCLUSIVE_THING"
NON_EXCLUSIVE = "NON_EXCLUSIVE_THING"


def attach_thing_principal(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingName"]
    thing = require_thing(ctx, "iot:AttachThingPrincipal", name)
    # The certificate's row stays locked until commit: a concurrent DeleteCertificate (which refuses a
    # certificate with things attached) waits for this attach instead of deleting under it.
    principal = known_principal(ctx, params["principal"], lock=True)
    principal_type = params.get("thingPrincipalType") or NON_EXCLUSIVE
    _check_exclusivity(ctx, name, principal, principal_type)
    try:
        repo.attach_principal(ctx.conn, thing, principal, principal_type)
    except storage_errors.NotFound:
        raise errors.not_found(f"Thing {name} cannot be found.") from None
    return {}


def known_principal(ctx: Context, principal: str, *, lock: bool = False) -> str:
    """The principal as stored: a certificate ARN becomes the certificate's own ARN (ResourceNotFound when the
    account has no such certificate); anything else stays as given."""
    try:
        parsed = arns.Arn.parse(principal)
    except ValueError:
        return principal
    if parsed.service != "iot" or not parsed.resource.startswith("cert/"):
        return principal
    certificate_id = parsed.resource.removeprefix("cert/")
    found = (
        iot_certificates.get_account_certificate(ctx.conn, ctx.account, certificate_id, lock=lock)
        if parsed.account == ctx.account
        else None
    )
    if found is None:
        raise errors.not_found(f"The certificate {principal} does not exist.")
    return found.arn


def _check_exclusivity(ctx: Context, name: str, principal: str, principal_type: str) -> None:
    others = {
        thing: kind
        for thing, kind in repo.principal_attachments(ctx.conn, ctx.account, principal).items()
        if thing != name
    }
    if principal_type == EXCLUSIVE and others:
        raise errors.invalid_request(
            f"Principal {principal} is attached to other things, so it cannot be attached exclusively to {name}."
        )
    exclusive = sorted(thing for thing, kind in others.items() if kind == EXCLUSIVE)
    if exclusive:
        raise errors.invalid_request(f"Principal {principal} is exclusively attached to thing {exclusive[0]}.")


def detach_thing_principal(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    thing = require_thing(ctx, "iot:DetachThingPrincipal", params["thingName"])
    repo.detach_principal(ctx.conn, thing, known_principal(ctx, params["principal"]))
    return {}


def list_thing_principals(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["thingName"]
    thing = lookup_thing(ctx, "iot:ListThingPrincipals", name)
    if thing is None:
        raise errors.not_found(
            f"Failed to list principals for thing {name} because the thing does not exist in your account"
        )
    after, limit = page_args(params)
    principals, next_key = repo.list_thing_principals(ctx.conn, thing, after, limit)
    return page_output("principals", principals, next_key)


def list_principal_things(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("iot:ListPrincipalThings", "*")
    after, limit = page_args(params)
    principal = known_principal(ctx, params["principal"])
    things, next_key = repo.list_principal_things(ctx.conn, ctx.account, principal, after, limit)
    return page_output("things", things, next_key)


OPERATIONS = {
    "AttachThingPrincipal": attach_thing_principal,
    "DetachThingPrincipal": detach_thing_principal,
    "ListThingPrincipals": list_thing_principals,
    "ListPrincipalThings": list_principal_things,
}
