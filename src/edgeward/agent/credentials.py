"""Temporary credentials as the credentials provider sends them, and as SDKs want them handed over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class CredentialsFormatError(Exception):
    """The provider answered 200 with a body that is not the documented `{"credentials": {...}}`."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime

    @classmethod
    def from_provider(cls, body: Any) -> Credentials:
        """`{"credentials": {"accessKeyId", "secretAccessKey", "sessionToken", "expiration"}}` (spec 1.3)."""
        try:
            raw = body["credentials"]
            return cls(
                access_key_id=str(raw["accessKeyId"]),
                secret_access_key=str(raw["secretAccessKey"]),
                session_token=str(raw["sessionToken"]),
                expiration=parse_time(str(raw["expiration"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CredentialsFormatError(f"unexpected credentials response: {exc}") from None

    def seconds_left(self, now: datetime | None = None) -> float:
        return (self.expiration - (now or datetime.now(UTC))).total_seconds()

    def expiration_text(self) -> str:
        return self.expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_provider(self) -> dict[str, Any]:
        return {
            "credentials": {
                "accessKeyId": self.access_key_id,
                "secretAccessKey": self.secret_access_key,
                "sessionToken": self.session_token,
                "expiration": self.expiration_text(),
            }
        }

    def to_process(self) -> dict[str, Any]:
        """The `credential_process` output format (Version 1)."""
        return {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration_text(),
        }

    def to_container(self) -> dict[str, Any]:
        """What the container credentials endpoint answers (`AWS_CONTAINER_CREDENTIALS_FULL_URI`)."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
            "Expiration": self.expiration_text(),
        }


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
