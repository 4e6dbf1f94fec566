"""The plain HTTP request and response the protocol layer works on, independent of any web server."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote


@dataclass(slots=True)
class HttpRequest:
    """A request as received.

    `raw_path` is the path exactly as sent on the wire (still percent-encoded, no query string): SigV4 for S3
    signs it unnormalized. `headers` has lower-case names; a header sent several times is joined with ","
    (which is also how SigV4 canonicalizes it). `body` is the whole body for every API but S3 object
    uploads, which stream (see the S3 issue).
    """

    method: str
    raw_path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    scheme: str = "http"
    client_ip: str = ""
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> str:
        """The decoded path."""
        cached = self._cache.get("path")
        if cached is None:
            cached = self._cache["path"] = unquote(self.raw_path)
        return cached  # type: ignore[return-value]

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded query parameters in order, blank values kept (`?uploads` gives ("uploads", ""))."""
        cached = self._cache.get("query_pairs")
        if cached is None:
            cached = self._cache["query_pairs"] = parse_qsl(self.query_string, keep_blank_values=True)
        return cached  # type: ignore[return-value]

    @property
    def query(self) -> dict[str, str]:
        """Decoded query parameters, the first value of each name."""
        cached = self._cache.get("query")
        if cached is None:
            result: dict[str, str] = {}
            for key, value in self.query_pairs:
                result.setdefault(key, value)
            cached = self._cache["query"] = result
        return cached  # type: ignore[return-value]

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None
