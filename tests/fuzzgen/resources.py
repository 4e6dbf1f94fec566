"""What the overrides name, made to exist, so broken inputs reach past "no such bucket" into the handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fuzzgen.overrides import BUCKET


def create(client: Callable[..., Any]) -> None:
    """`client(service, **config)` is an administrator's boto3 client factory."""
    s3 = client("s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="fuzzgen/key.txt", Body=b"key")
    s3.put_object(Bucket=BUCKET, Key="fuzzgen/source.txt", Body=b"source")
    iot = client("iot")
    iot.create_thing(thingName="fuzzgen-thing")
    iot.create_thing_group(thingGroupName="fuzzgen-group")
    iam = client("iam")
    iam.create_user(UserName="fuzzgen-user")
