"""Bodies that do not fit in memory: what the server hands S3 handlers, and what they hand back.

A streaming request body (PutObject, UploadPart) reaches its handler already written to the blob store,
decoded (aws-chunked framing stripped) and hashed: a `StagedBody`. The handler records it in its transaction;
the server deletes the blob again when the transaction does not commit. A handler that returns a large body
(GetObject) returns a `BodyStream`, which the server sends chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StagedBody:
    blob_id: str
    size: int
    md5_hex: str
    # Checksums the server computed over the decoded bytes, by algorithm ("CRC32", "CRC32C", "CRC64NVME",
    # "SHA1", "SHA256") -> base64 value; those the client sent have already been verified against them.
    checksums: Mapping[str, str] = field(default_factory=dict)
    sha256_hex: str = ""


class BodyStream(Protocol):
    """A response body of `length` bytes, produced lazily; `close` releases it early."""

    length: int

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...
