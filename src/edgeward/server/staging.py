"""Staging an S3 upload body into the blob store: decoded, hashed and verified while it streams.

`plan_upload` reads what the request's headers promise about its body (aws-chunked framing, chunk signatures,
Content-MD5, `x-amz-checksum-*` headers or trailers, a signed SHA-256, the decoded length) before any byte is
read, and refuses what can never be right. A `BodySink` then takes the raw body piece by piece: it strips the
aws-chunked framing, hashes the decoded bytes once for every algorithm that matters, writes them to a blob, and
at the end compares everything the client claimed. Only then is the blob committed and described by a
`StagedBody`; on any failure the blob is aborted, so nothing half-written remains.

A sink is synchronous and not thread-safe: the server feeds it from one worker thread at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeward.core.errors import ServiceError
from edgeward.core.payload import StagedBody
from edgeward.protocol import awschunked, checksums
from edgeward.protocol.auth_errors import auth_error
from edgeward.protocol.awschunked import AwsChunkedDecoder, ChunkSigning
from edgeward.protocol.http import HttpRequest
from edgeward.protocol.sigv4 import content_sha256_mismatch
from edgeward.protocol.sigv4_read import HEX_DIGITS
from edgeward.storage.blobs import BlobWriter

MAX_OBJECT_BYTES = 5 * 1024**3  # S3's limit for one PutObject and for one part


@dataclass(frozen=True, slots=True)
class UploadPlan:
    chunked: bool = False
    signing: ChunkSigning | None = None
    signed_trailer: bool = False
    declared_length: int | None = None  # decoded bytes announced (Content-Length or x-amz-decoded-content-length)
    content_md5: bytes | None = None
    claimed_sha256: str | None = None  # a hex x-amz-content-sha256 to compare with the body
    expected: dict[str, str] = field(default_factory=dict)  # algorithm -> base64 from a header
    trailer_algorithms: frozenset[str] = frozenset()  # checksums announced in x-amz-trailer
    algorithms: frozenset[str] = frozenset()  # everything to compute besides MD5


def invalid_digest() -> ServiceError:
    return ServiceError("InvalidDigest", "The Content-MD5 you specified was not valid.", 400)


def bad_digest() -> ServiceError:
    return ServiceError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)


def checksum_mismatch(algorithm: str) -> ServiceError:
    return ServiceError(
        "BadDigest", f"The {algorithm.lower()} you specified did not match the calculated checksum.", 400
    )


def invalid_checksum(algorithm: str) -> ServiceError:
    return ServiceError("InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.", 400)


def too_large() -> ServiceError:
    return ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)


def incomplete(declared: int, received: int) -> ServiceError:
    return ServiceError(
        "IncompleteBody",
        f"You did not provide the number of bytes specified by the Content-Length HTTP header "
        f"({declared} announced, {received} received).",
        400,
    )


def plan_upload(request: HttpRequest, signing: ChunkSigning | None, *, trust_chunks: bool = False) -> UploadPlan:
    """What to check while the body streams. `signing` chains the chunk signatures of a signed aws-chunked
    body (built from the request's verified SigV4 signature). A signed body without it is refused, unless
    `trust_chunks` (dev mode, where no secret is known)."""
    headers = request.headers
    mode = headers.get("x-amz-content-sha256", "")
    if mode.startswith(awschunked.SIGNED) and signing is None and not trust_chunks:
        raise awschunked.chunk_signature_mismatch()
    chunked = mode in awschunked.STREAMING_MODES or "aws-chunked" in headers.get("content-encoding", "").lower()
    expected = _expected_checksums(headers)
    trailers = _trailer_algorithms(headers.get("x-amz-trailer", ""))
    if len(expected) + len(trailers) > 1:
        raise ServiceError(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            400,
        )
    requested = {
        value.upper()
        for value in (headers.get("x-amz-sdk-checksum-algorithm"), headers.get("x-amz-checksum-algorithm"))
        if value and value.upper() in checksums.ALGORITHMS.values()
    }
    claimed = mode.lower() if len(mode) == 64 and HEX_DIGITS.issuperset(mode) else None
    declared = _declared_length(headers, chunked)
    if declared is not None and declared > MAX_OBJECT_BYTES:
        raise too_large()
    return UploadPlan(
        chunked=chunked,
        signing=signing if mode.startswith(awschunked.SIGNED) else None,
        signed_trailer=mode == awschunked.SIGNED_TRAILER,
        declared_length=declared,
        content_md5=_content_md5(headers.get("content-md5")),
        claimed_sha256=claimed,
        expected=expected,
        trailer_algorithms=trailers,
        algorithms=frozenset(expected) | trailers | requested | ({"SHA256"} if claimed else set()),
    )


def _expected_checksums(headers: dict[str, str]) -> dict[str, str]:
    expected = checksums.checksum_headers(headers)
    for algorithm, value in expected.items():
        raw = checksums.decode_b64(value)
        if raw is None or len(raw) != checksums.digest_size(algorithm):
            raise invalid_checksum(algorithm)
    return expected


def _trailer_algorithms(text: str) -> frozenset[str]:
    found: set[str] = set()
    for name in filter(None, (part.strip() for part in text.split(","))):
        algorithm = checksums.algorithm_of_header(name)
        if algorithm is None:
            raise ServiceError(
                "InvalidRequest", f"The value specified in the x-amz-trailer header is not supported: {name}", 400
            )
        found.add(algorithm)
    return frozenset(found)


def _content_md5(text: str | None) -> bytes | None:
    if text is None:
        return None
    raw = checksums.decode_b64(text)
    if raw is None or len(raw) != 16:
        raise invalid_digest()
    return raw


def _declared_length(headers: dict[str, str], chunked: bool) -> int | None:
    text = headers.get("x-amz-decoded-content-length") if chunked else headers.get("content-length")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise ServiceError("InvalidArgument", f"Invalid length header value: {text[:32]}", 400)
    return int(text)


class BodySink:
    """Takes the raw body piece by piece (`feed`), then `finish()` -> StagedBody or `abort()`."""

    def __init__(self, plan: UploadPlan, writer: BlobWriter) -> None:
        self._plan = plan
        self._writer = writer
        self._decoder = AwsChunkedDecoder(plan.signing, signed_trailer=plan.signed_trailer) if plan.chunked else None
        self._hashers = checksums.MultiHasher({"MD5", *plan.algorithms})
        self._size = 0
        self._closed = False

    def feed(self, raw: bytes) -> None:
        data = self._decoder.feed(raw) if self._decoder is not None else raw
        if not data:
            return
        self._size += len(data)
        if self._size > MAX_OBJECT_BYTES:
            raise too_large()
        declared = self._plan.declared_length
        if declared is not None and self._size > declared:
            raise incomplete(declared, self._size)
        self._hashers.update(data)
        self._writer.write(data)

    def finish(self) -> StagedBody:
        """Check the framing, the length and every claimed digest; commit the blob (durable) and describe it."""
        trailers = self._decoder.finish() if self._decoder is not None else {}
        declared = self._plan.declared_length
        if declared is not None and self._size != declared:
            raise incomplete(declared, self._size)
        digests = self._hashers.digests()
        self._verify(digests, trailers)
        blob_id = self._writer.commit()
        self._closed = True
        return StagedBody(
            blob_id=blob_id,
            size=self._size,
            md5_hex=digests["MD5"].hex(),
            checksums={name: checksums.b64(value) for name, value in digests.items() if name not in ("MD5",)},
            sha256_hex=digests["SHA256"].hex() if "SHA256" in digests else "",
        )

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.abort()

    def _verify(self, digests: dict[str, bytes], trailers: dict[str, str]) -> None:
        plan = self._plan
        if plan.claimed_sha256 is not None and digests["SHA256"].hex() != plan.claimed_sha256:
            raise auth_error("s3", content_sha256_mismatch(plan.claimed_sha256, digests["SHA256"].hex()))
        if plan.content_md5 is not None and digests["MD5"] != plan.content_md5:
            raise bad_digest()
        for algorithm, value in plan.expected.items():
            if checksums.decode_b64(value) != digests[algorithm]:
                raise checksum_mismatch(algorithm)
        for algorithm in plan.trailer_algorithms:
            sent = trailers.get(checksums.HEADER_PREFIX + algorithm.lower())
            raw = None if sent is None else checksums.decode_b64(sent)
            if raw is None or len(raw) != checksums.digest_size(algorithm):
                raise awschunked.malformed_trailer()
            if raw != digests[algorithm]:
                raise checksum_mismatch(algorithm)
