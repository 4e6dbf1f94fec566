"""S3's additional checksums: which one a request chose, how to compute one, and multipart composites.

Values are base64 of the big-endian digest, as in `x-amz-checksum-*` headers. CRC32C and CRC64NVME come
from awscrt (botocore's own CRT extra), the rest from the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Mapping
from typing import Any

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
# Params members carrying a checksum value, by algorithm (`ChecksumCRC32` ... as in the botocore model).
MEMBERS = {algorithm: f"Checksum{algorithm}" for algorithm in ALGORITHMS}


def _crc32c(data: bytes) -> bytes:
    from awscrt import checksums

    return int(checksums.crc32c(data)).to_bytes(4, "big")


def _crc64nvme(data: bytes) -> bytes:
    from awscrt import checksums

    return int(checksums.crc64nvme(data)).to_bytes(8, "big")


_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "CRC32C": _crc32c,
    "CRC64NVME": _crc64nvme,
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
}


def compute(algorithm: str, data: bytes) -> str:
    return base64.b64encode(_DIGESTS[algorithm](data)).decode("ascii")


def supplied(params: Mapping[str, Any]) -> dict[str, str]:
    """The checksum values the request carried in headers, by algorithm."""
    return {algorithm: str(params[member]) for algorithm, member in MEMBERS.items() if params.get(member)}


def chosen(params: Mapping[str, Any], computed: Mapping[str, str]) -> tuple[str, str] | None:
    """The one checksum S3 stores for a body: the value the client sent, else the algorithm it named
    (`x-amz-sdk-checksum-algorithm`, value from a trailer or computed by the server). None when neither."""
    sent = supplied(params)
    if sent:
        algorithm = next(iter(sent))
        return algorithm, sent[algorithm]
    named = str(params.get("ChecksumAlgorithm") or "").upper()
    return (named, computed[named]) if named in computed else None


def composite(algorithm: str, part_values: list[str]) -> str:
    """A multipart object's COMPOSITE checksum: the checksum of the parts' checksums, then `-<parts>`."""
    joined = b"".join(base64.b64decode(value) for value in part_values)
    return f"{compute(algorithm, joined)}-{len(part_values)}"


def output(algorithm: str, value: str) -> dict[str, str]:
    """The response members echoing one checksum."""
    return {MEMBERS[algorithm]: value}
