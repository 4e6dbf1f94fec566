"""IAM: users and access keys (the IAM issue adds groups, roles, policies and the rest)."""

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
