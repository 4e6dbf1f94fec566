"""Amazon Resource Names."""

from __future__ import annotations

from dataclasses import dataclass

PARTITION = "aws"


@dataclass(frozen=True, slots=True)
class Arn:
    service: str
    region: str
    account: str
    resource: str
    partition: str = PARTITION

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @classmethod
    def parse(cls, text: str) -> Arn:
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
            raise ValueError(f"not an ARN: {text!r}")
        return cls(partition=parts[1], service=parts[2], region=parts[3], account=parts[4], resource=parts[5])


def build(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def iam(account: str, resource: str) -> str:
    return build("iam", "", account, resource)


def root(account: str) -> str:
    return iam(account, "root")


def iam_entity(account: str, kind: str, path: str, name: str) -> str:
    """`arn:aws:iam::123456789012:user/division/name` for kind `user`, path `/division/`."""
    return iam(account, f"{kind}{path}{name}")
