"""Session tags: the Tags and TransitiveTagKeys of AssumeRole, and what role chaining passes on.

Tag keys are case-insensitive (IAM's rule): a request may not repeat a key in another case, session tags
override the role's tags of the same key in any case, and a transitive tag inherited from the calling session
may not be passed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgeward.policy import ContextValue
from edgeward.services.sts import errors
from edgeward.storage.repos.sessions import ChainFacts

RESERVED_PREFIX = "aws:"


@dataclass(frozen=True, slots=True)
class SessionTags:
    requested: dict[str, str] = field(default_factory=dict)  # passed in this request
    requested_transitive: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)  # the new session's: inherited transitive + requested
    transitive: tuple[str, ...] = ()  # keys the new session passes on

    def condition_keys(self) -> dict[str, ContextValue]:
        """`aws:RequestTag/<key>`, `aws:TagKeys` and `sts:TransitiveTagKeys` for the trust policy."""
        if not self.requested:
            return {}
        keys: dict[str, ContextValue] = {f"aws:RequestTag/{k}": v for k, v in self.requested.items()}
        keys["aws:TagKeys"] = list(self.requested)
        if self.requested_transitive:
            keys["sts:TransitiveTagKeys"] = list(self.requested_transitive)
        return keys


def session_tags(params: Mapping[str, Any], inherited: ChainFacts | None) -> SessionTags:
    """Validate the request's tags and combine them with those a calling session passes on."""
    requested = _requested(params.get("Tags") or [])
    folded = {key.lower(): key for key in requested}
    requested_transitive = _transitive_keys(params.get("TransitiveTagKeys") or [], folded)
    incoming = _incoming(inherited)
    for key in incoming:
        if key.lower() in folded:
            raise errors.invalid_parameter(
                f"The session tag {folded[key.lower()]} was set as transitive by the calling session and "
                "cannot be passed again in a role chain."
            )
    tags = {**incoming, **requested}
    transitive = (*incoming, *requested_transitive)
    return SessionTags(requested, requested_transitive, tags, transitive)


def merge_tags(base: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """`base` (a role's tags) with `overrides` (session tags) replacing keys of any letter case."""
    if not overrides:
        return dict(base)
    replaced = {key.lower() for key in overrides}
    merged = {key: value for key, value in base.items() if key.lower() not in replaced}
    merged.update(overrides)
    return merged


def _requested(raw: Sequence[Mapping[str, str]]) -> dict[str, str]:
    tags: dict[str, str] = {}
    seen: set[str] = set()
    for tag in raw:
        key, value = tag["Key"], tag["Value"]
        if key.lower() in seen:
            raise errors.invalid_parameter("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        if key.lower().startswith(RESERVED_PREFIX):
            raise errors.invalid_parameter(f"Tag key {key} is invalid: keys beginning with 'aws:' are reserved.")
        seen.add(key.lower())
        tags[key] = value
    return tags


def _transitive_keys(raw: Sequence[str], requested: Mapping[str, str]) -> tuple[str, ...]:
    keys: list[str] = []
    for key in raw:
        original = requested.get(key.lower())
        if original is None:
            raise errors.invalid_parameter(
                f"The transitive tag key {key} is not the key of a session tag passed in the request."
            )
        if original not in keys:
            keys.append(original)
    return tuple(keys)


def _incoming(inherited: ChainFacts | None) -> dict[str, str]:
    if inherited is None:
        return {}
    transitive = {key.lower() for key in inherited.transitive_tag_keys}
    return {key: value for key, value in inherited.tags.items() if key.lower() in transitive}
