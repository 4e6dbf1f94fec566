"""AWS managed policies: fixed ARNs and documents, attachable but not editable.

The IAM issue adds the full catalogue the seeds attach; the core service needs the administrator's.
"""

from __future__ import annotations

import json

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"

_DOCUMENTS: dict[str, str] = {
    ADMINISTRATOR_ACCESS: json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    ),
}


def managed_policy_document(policy_arn: str) -> str | None:
    return _DOCUMENTS.get(policy_arn)
