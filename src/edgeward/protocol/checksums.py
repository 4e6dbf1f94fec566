"""S3's integrity checksums, computed incrementally over a streamed body.

The algorithms of `x-amz-checksum-<algorithm>` (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) plus MD5 (the
`Content-MD5` header and the ETag). Values are compared and returned the way they travel: base64 of the
big-endian digest. The CRCs come from awscrt (the same native code the AWS SDKs use), the hashes from hashlib;
both release the GIL on large inputs, so hashing in a worker thread does not stall the event loop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from awscrt import checksums as crt

# Header suffix (lower case) -> algorithm name as S3 spells it (`ChecksumAlgorithm`, `x-amz-checksum-crc32`).
ALGORITHMS = {"crc32": "CRC32", "crc32c": "CRC32C", "crc64nvme": "CRC64NVME", "sha1": "SHA1", "sha256": "SHA256"}
HEADER_PREFIX = "x-amz-checksum-"


class Hasher(Protocol):
    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A CRC over a stream: awscrt's functions take the running value back as their seed."""

    def __init__(self, function: Callable[[bytes, int], int], width: int) -> None:
        self._function = function
        self._bytes = width // 8
        self._value = 0

    def update(self, data: bytes) -> None:
        self._value = self._function(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._bytes, "big")


def new_hasher(algorithm: str) -> Hasher:
    """An incremental hasher for `algorithm` (an S3 name: CRC32, ..., SHA256, or MD5)."""
    name = algorithm.upper()
    if name == "CRC32":
        return _Crc(crt.crc32, 32)
    if name == "CRC32C":
        return _Crc(crt.crc32c, 32)
    if name == "CRC64NVME":
        return _Crc(crt.crc64nvme, 64)
    if name in ("SHA1", "SHA256", "MD5"):
        return hashlib.new(name.lower())
    raise ValueError(f"unknown checksum algorithm {algorithm!r}")


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def decode_b64(text: str) -> bytes | None:
    """A base64 header value's bytes, or None when it is not base64."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def digest_size(algorithm: str) -> int:
    return {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32, "MD5": 16}[algorithm.upper()]


class MultiHasher:
    """Several algorithms fed the same bytes once each."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self._hashers = {name.upper(): new_hasher(name) for name in algorithms}

    @property
    def algorithms(self) -> frozenset[str]:
        return frozenset(self._hashers)

    def update(self, data: bytes) -> None:
        for hasher in self._hashers.values():
            hasher.update(data)

    def digests(self) -> dict[str, bytes]:
        return {name: hasher.digest() for name, hasher in self._hashers.items()}


def checksum_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The `x-amz-checksum-<algorithm>` values a request carries, by algorithm (CRC32, ...)."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        if name.startswith(HEADER_PREFIX):
            algorithm = ALGORITHMS.get(name[len(HEADER_PREFIX) :])
            if algorithm is not None:
                found[algorithm] = value.strip()
    return found


def algorithm_of_header(name: str) -> str | None:
    """`x-amz-checksum-crc32` -> CRC32; None for any other name."""
    lowered = name.strip().lower()
    if not lowered.startswith(HEADER_PREFIX):
        return None
    return ALGORITHMS.get(lowered[len(HEADER_PREFIX) :])
