"""Hand-picked values for members where generated ones would be refused before the interesting part: names that
clients check themselves (S3 buckets), ARNs and targets that handlers must parse to know the resource they
authorize against, and members the model leaves optional but the operation needs.

`{account}` in a value stands for the server's account id.
"""

from __future__ import annotations

from typing import Any

BUCKET = "fuzzgen-bucket"
CERTIFICATE_ID = "0" * 63 + "1"
CERTIFICATE_ARN = f"arn:aws:iot:us-east-1:{{account}}:cert/{CERTIFICATE_ID}"
POLICY_ARN = "arn:aws:iam::{account}:policy/fuzzgen-policy"
ROLE_ARN = "arn:aws:iam::{account}:role/fuzzgen-role"

# Every operation of a service: member -> value, where the operation has that member.
SERVICE_MEMBERS: dict[str, dict[str, Any]] = {
    "s3": {"Bucket": BUCKET, "Key": "fuzzgen/key.txt", "UploadId": "fuzzgen-upload", "PartNumber": 1},
    "iam": {
        "PolicyArn": POLICY_ARN,
        "PermissionsBoundary": POLICY_ARN,
        "PolicySourceArn": "arn:aws:iam::{account}:user/fuzzgen-user",
    },
    "iot": {
        "target": CERTIFICATE_ARN,
        "principal": CERTIFICATE_ARN,
        "roleArn": ROLE_ARN,
        "resourceArn": "arn:aws:iot:us-east-1:{account}:thinggroup/fuzzgen-group",
    },
    "sts": {"RoleArn": ROLE_ARN},
}

# One operation: member -> value (wins over the service's).
OPERATION_MEMBERS: dict[tuple[str, str], dict[str, Any]] = {
    ("s3", "CopyObject"): {"CopySource": f"{BUCKET}/fuzzgen/source.txt"},
    ("s3", "PutBucketPolicy"): {"Policy": '{"Version": "2012-10-17", "Statement": []}'},
    ("s3", "DeleteObjects"): {"Delete": {"Objects": [{"Key": "fuzzgen/key.txt"}]}},
    ("iot", "TagResource"): {"tags": [{"Key": "fuzzgen", "Value": "v"}]},
    ("iot", "UntagResource"): {"tagKeys": ["fuzzgen"]},
    ("iot", "AddThingToThingGroup"): {"thingGroupName": "fuzzgen-group", "thingName": "fuzzgen-thing"},
    ("iot", "RemoveThingFromThingGroup"): {"thingGroupName": "fuzzgen-group", "thingName": "fuzzgen-thing"},
}

# For callers that are not IAM users: IAM operations acting on "the caller's own user" need a user name.
NON_USER_MEMBERS: dict[str, dict[str, Any]] = {"iam": {"UserName": "fuzzgen-user"}}


def members(
    service: str, operation: str, present: set[str], account: str, *, caller_is_user: bool = True
) -> dict[str, Any]:
    """The pinned members of `operation` (whose input has the members `present`)."""
    chosen = {**SERVICE_MEMBERS.get(service, {})}
    if not caller_is_user:
        chosen.update(NON_USER_MEMBERS.get(service, {}))
    chosen = {name: value for name, value in chosen.items() if name in present}
    chosen.update(OPERATION_MEMBERS.get((service, operation), {}))
    return {name: _fill(value, account) for name, value in chosen.items()}


def _fill(value: Any, account: str) -> Any:
    if isinstance(value, str):
        return value.replace("{account}", account)
    if isinstance(value, dict):
        return {key: _fill(item, account) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, account) for item in value]
    return value
