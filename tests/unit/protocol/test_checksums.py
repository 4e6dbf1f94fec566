"""Incremental checksums agree with the published check values and with botocore's own implementations."""

from __future__ import annotations

import hashlib
import os

import pytest
from botocore import httpchecksum

from edgeward.protocol import checksums

CHECK = b"123456789"


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32", 0xCBF43926),  # the standard CRC check values of "123456789"
        ("CRC32C", 0xE3069283),
        ("CRC64NVME", 0xAE8B14860A799888),
    ],
)
def test_crc_check_values(algorithm: str, value: int) -> None:
    hasher = checksums.new_hasher(algorithm)
    hasher.update(CHECK)
    assert int.from_bytes(hasher.digest(), "big") == value
    assert len(hasher.digest()) == checksums.digest_size(algorithm)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5"])
def test_incremental_equals_one_shot(algorithm: str) -> None:
    data = os.urandom(300_001)
    whole = checksums.new_hasher(algorithm)
    whole.update(data)
    pieces = checksums.new_hasher(algorithm)
    for start in range(0, len(data), 7919):
        pieces.update(data[start : start + 7919])
    assert pieces.digest() == whole.digest()


@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
def test_same_base64_as_botocore(algorithm: str) -> None:
    if algorithm not in httpchecksum._CHECKSUM_CLS:
        pytest.skip(f"botocore computes {algorithm} only with awscrt enabled")
    data = os.urandom(100_000)
    theirs = httpchecksum._CHECKSUM_CLS[algorithm]()
    theirs.update(data)
    ours = checksums.MultiHasher([algorithm])
    ours.update(data[:1234])
    ours.update(data[1234:])
    assert checksums.b64(ours.digests()[algorithm.upper()]) == theirs.b64digest()


def test_md5_and_sha256_are_hashlib() -> None:
    hasher = checksums.MultiHasher(["MD5", "SHA256"])
    hasher.update(CHECK)
    assert hasher.digests() == {"MD5": hashlib.md5(CHECK).digest(), "SHA256": hashlib.sha256(CHECK).digest()}


def test_unknown_algorithm() -> None:
    with pytest.raises(ValueError):
        checksums.new_hasher("CRC16")


def test_headers() -> None:
    headers = {"x-amz-checksum-crc32": " AAAAAA== ", "x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-md4": "x"}
    assert checksums.checksum_headers(headers) == {"CRC32": "AAAAAA=="}
    assert checksums.algorithm_of_header("X-Amz-Checksum-CRC64NVME") == "CRC64NVME"
    assert checksums.algorithm_of_header("content-md5") is None
    assert checksums.decode_b64("not base64!") is None
