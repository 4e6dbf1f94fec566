"""botocore `requestUri` templates (`/things/{thingName}`, `/{Bucket}/{Key+}?uploads`) compiled to matchers.

`{Label}` matches one non-empty path segment, `{Label+}` one or more characters including `/`. Literal query
parts of a template (`?uploads`, `?list-type=2`) must be present in the request. Matching works on the raw
(still percent-encoded) path, so an encoded `/` (`%2F`) inside a label never splits it; the caller decodes the
labels it keeps. A trailing `/` on the request is tolerated (`/b/` is the bucket `b`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.model import OperationModel, ServiceModel

_LABEL = re.compile(r"\{([^{}]+?)(\+?)\}")


@dataclass(frozen=True, slots=True)
class UriTemplate:
    template: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]  # label name of each regex group, in order
    literal_segments: int
    query: tuple[tuple[str, str | None], ...]  # required query keys, with the value they must have (or None)
    first_literal: str | None  # the first path segment when it is literal: an index key for routers

    def match(self, raw_path: str, query: Mapping[str, str]) -> dict[str, str] | None:
        """The raw label values if the path and the required query keys match, else None."""
        for key, value in self.query:
            if key not in query or (value is not None and query[key] != value):
                return None
        found = self.pattern.match(raw_path)
        if found is None:
            return None
        return dict(zip(self.labels, found.groups(), strict=True))


def compile_template(template: str) -> UriTemplate:
    path, _, query = template.partition("?")
    segments = [segment for segment in path.strip("/").split("/") if segment] if path != "/" else []
    labels: list[str] = []
    parts = [_segment_regex(segment, labels) for segment in segments]
    regex = "^/" + "/".join(parts) + ("/?" if parts else "") + "$"
    literal = [segment for segment in segments if "{" not in segment]
    first = segments[0] if segments and "{" not in segments[0] else None
    return UriTemplate(
        template=template,
        pattern=re.compile(regex, re.DOTALL),
        labels=tuple(labels),
        literal_segments=len(literal),
        query=_query_literals(query),
        first_literal=first,
    )


def _segment_regex(segment: str, labels: list[str]) -> str:
    pieces: list[str] = []
    position = 0
    for found in _LABEL.finditer(segment):
        pieces.append(re.escape(segment[position : found.start()]))
        labels.append(found.group(1))
        pieces.append("(.+)" if found.group(2) else "([^/]+)")
        position = found.end()
    pieces.append(re.escape(segment[position:]))
    return "".join(pieces)


def _query_literals(query: str) -> tuple[tuple[str, str | None], ...]:
    result: list[tuple[str, str | None]] = []
    for part in query.split("&"):
        if part:
            key, equals, value = part.partition("=")
            result.append((key, value if equals else None))
    return tuple(result)


def first_segment(raw_path: str) -> str:
    """The first segment of a request path, for looking up templates by `first_literal`."""
    return raw_path[1:].split("/", 1)[0]


# --- the operations of one rest service, indexed for the router ----------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    operation: str
    template: UriTemplate
    required: tuple[tuple[bool, str], ...]  # (is a header, name) of required query/header members
    known_query: frozenset[str]
    known_headers: frozenset[str]
    deprecated: bool
    tie_break: tuple[bool, int]  # (no dedicated endpoint, earlier in the model)

    def specificity(self, query: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, int, bool, int, bool]:
        """Literal segments, literal query keys, whether the required query/header members are all there
        and how many there are, then whether the operation is current."""
        present = all((name in headers) if is_header else (name in query) for is_header, name in self.required)
        template = self.template
        return (
            template.literal_segments,
            len(template.query),
            present,
            len(self.required),
            not self.deprecated,
        )

    def evidence(self, query: Mapping[str, str], headers: Mapping[str, str]) -> int:
        """How many of the request's query keys and headers this operation knows (ListBuckets's `max-buckets`
        against ListDirectoryBuckets's `max-directory-buckets`)."""
        known_query, known_headers = self.known_query, self.known_headers
        return sum(key in known_query for key in query) + sum(key in known_headers for key in headers)


def best_match(
    matches: list[tuple[_Entry, dict[str, str]]], query: Mapping[str, str], headers: Mapping[str, str]
) -> tuple[_Entry, dict[str, str]]:
    """The most specific match; ties go to the operation knowing more of the request, then to the general
    endpoint's operation, then to the earlier one."""
    if len(matches) == 1:
        return matches[0]
    scored = [(entry.specificity(query, headers), entry, labels) for entry, labels in matches]
    top = max(score for score, _, _ in scored)
    tied = [(entry, labels) for score, entry, labels in scored if score == top]
    if len(tied) == 1:
        return tied[0]
    return max(tied, key=lambda match: (match[0].evidence(query, headers), *match[0].tie_break))


def _entry(operation: OperationModel, position: int) -> _Entry:
    required: list[tuple[bool, str]] = []
    known_query: set[str] = set()
    known_headers: set[str] = set()
    shape = operation.input_shape
    members = shape.members if shape is not None else {}
    for name, member in members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "querystring":
            known_query.add(wire)
        elif location == "header":
            known_headers.add(wire.lower())
        else:
            continue
        if name in shape.required_members:
            required.append((location == "header", wire.lower() if location == "header" else wire))
    general = not operation.static_context_parameters
    return _Entry(
        operation=operation.name,
        template=compile_template(operation.http["requestUri"]),
        required=tuple(required),
        known_query=frozenset(known_query),
        known_headers=frozenset(known_headers),
        deprecated=bool(operation.deprecated),
        tie_break=(general, -position),
    )


_Key = tuple[str, str | None, str | None]


class RestIndex:
    """Every operation's template, compiled once and filed by method, first literal path segment and first
    required query key, so a request is matched only against the few templates that could fit it."""

    def __init__(self, model: ServiceModel) -> None:
        self._entries: dict[_Key, list[_Entry]] = {}
        for position, name in enumerate(model.operation_names):
            operation = model.operation_model(name)
            entry = _entry(operation, position)
            query = entry.template.query
            key = (
                operation.http.get("method", "POST"),
                entry.template.first_literal,
                query[0][0] if query else None,
            )
            self._entries.setdefault(key, []).append(entry)

    def find(
        self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[str, dict[str, str]] | None:
        """The best-matching operation and its raw (still percent-encoded) labels."""
        matches: list[tuple[_Entry, dict[str, str]]] = []
        for entry in self._candidates(method, raw_path, query):
            labels = entry.template.match(raw_path, query)
            if labels is not None:
                matches.append((entry, labels))
        if not matches:
            return None
        best, labels = best_match(matches, query, headers)
        return best.operation, labels

    def _candidates(self, method: str, raw_path: str, query: Mapping[str, str]) -> list[_Entry]:
        found: list[_Entry] = []
        for first in (first_segment(raw_path), None):
            for key in (None, *query):
                found.extend(self._entries.get((method, first, key), ()))
        return found
