"""Inline policies: Put/Get/Delete/List User/Group/Role Policy (Policies for the list).

An identity's inline policies share one size quota (non-whitespace characters: users 2,048, groups 5,120,
roles 10,240), checked under the owner's row lock so two concurrent puts cannot both slip under it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeward.core.errors import ServiceError
from edgeward.services.context import Context, Handler
from edgeward.services.iam import documents, errors, owners
from edgeward.services.iam.listing import page
from edgeward.services.iam.paging import page_args
from edgeward.storage.repos import inline_policies as inline_repo

_NAME_PARAM = {"user": "UserName", "group": "GroupName", "role": "RoleName"}


def _title(kind: str) -> str:
    return kind.capitalize()


def _no_such_policy(kind: str, policy_name: str) -> ServiceError:
    return errors.no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")


def _put(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    policy_name, document = params["PolicyName"], params["PolicyDocument"]
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], f"iam:Put{_title(kind)}Policy", lock=True)
    documents.validate(document)
    others = sum(
        documents.size(p.document) for p in inline_repo.list_for(ctx.conn, kind, owner.id) if p.name != policy_name
    )
    documents.check_inline_size(kind, owner.name, others + documents.size(document))
    inline_repo.put(ctx.conn, ctx.account, kind, owner.id, policy_name, document)
    return {}


def _get(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    policy_name = params["PolicyName"]
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], f"iam:Get{_title(kind)}Policy")
    found = inline_repo.get(ctx.conn, kind, owner.id, policy_name)
    if found is None:
        raise _no_such_policy(kind, policy_name)
    return {
        _NAME_PARAM[kind]: owner.name,
        "PolicyName": found.name,
        "PolicyDocument": documents.encoded(found.document),
    }


def _delete(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    policy_name = params["PolicyName"]
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], f"iam:Delete{_title(kind)}Policy", lock=True)
    if not inline_repo.delete(ctx.conn, kind, owner.id, policy_name):
        raise _no_such_policy(kind, policy_name)
    return {}


def _list(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    owner = owners.require(ctx, kind, params[_NAME_PARAM[kind]], f"iam:List{_title(kind)}Policies")
    marker, max_items = page_args(params)
    names, next_marker = page(inline_repo.names(ctx.conn, kind, owner.id), lambda name: name, marker, max_items)
    output: dict[str, Any] = {"PolicyNames": names, "IsTruncated": next_marker is not None}
    if next_marker is not None:
        output["Marker"] = next_marker
    return output


def _for(kind: str, operation: Callable[[Context, dict[str, Any], str], dict[str, Any]]) -> Handler:
    def handler(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        return operation(ctx, params, kind)

    handler.__name__ = f"{operation.__name__.strip('_')}_{kind}_policy"
    return handler


OPERATIONS: dict[str, Handler] = {
    f"{verb}{_title(kind)}{suffix}": _for(kind, operation)
    for kind in ("user", "group", "role")
    for verb, operation, suffix in (
        ("Put", _put, "Policy"),
        ("Get", _get, "Policy"),
        ("Delete", _delete, "Policy"),
        ("List", _list, "Policies"),
    )
}
