"""The administrator identity created on first start."""

from __future__ import annotations

from sqlalchemy import Connection

from edgeward.core import ids
from edgeward.services.iam.managed import ADMINISTRATOR_ACCESS
from edgeward.storage.repos import access_keys as key_repo
from edgeward.storage.repos import attachments
from edgeward.storage.repos import users as user_repo
from edgeward.storage.secrets import SecretBox


def create_administrator(conn: Connection, account: str, name: str, box: SecretBox) -> tuple[str, str]:
    """An IAM user with full access and one access key; returns (access key id, secret)."""
    user = user_repo.create_user(conn, account, name, "/", {}, unique_id=ids.unique_id("AIDA"))
    attachments.attach_policy(conn, account, "user", user.id, ADMINISTRATOR_ACCESS)
    key, secret = key_repo.create_access_key(conn, account, user, box)
    return key.access_key_id, secret
