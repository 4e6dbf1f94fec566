"""IAM groups, roles, login profiles, password policy, user updates and tags: the operation table."""

from __future__ import annotations

from edgeward.services.context import Handler

OPERATIONS: dict[str, Handler] = {}
