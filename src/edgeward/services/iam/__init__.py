"""IAM: each area keeps its own OPERATIONS table; this package merges them."""

from __future__ import annotations

from edgeward.services.context import Handler
from edgeward.services.iam import access_keys, users

OPERATIONS: dict[str, Handler] = {
    "CreateUser": users.create_user,
    "GetUser": users.get_user,
    "ListUsers": users.list_users,
    "DeleteUser": users.delete_user,
    "CreateAccessKey": access_keys.create_access_key,
    "ListAccessKeys": access_keys.list_access_keys,
    "UpdateAccessKey": access_keys.update_access_key,
    "DeleteAccessKey": access_keys.delete_access_key,
    "GetAccessKeyLastUsed": access_keys.get_access_key_last_used,
}


def _merge() -> None:
    from edgeward.services.iam import entities_ops, policies_ops

    for module in (entities_ops, policies_ops):
        for name, handler in module.OPERATIONS.items():
            if name in OPERATIONS:
                raise RuntimeError(f"IAM operation {name} registered twice")
            OPERATIONS[name] = handler


_merge()
