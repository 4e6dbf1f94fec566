"""An incremental decoder for S3's `aws-chunked` content encoding.

The body is a series of `<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n` chunks, ended by a zero-size
chunk, optional trailer lines (`x-amz-checksum-crc32:<base64>`, and for signed trailers
`x-amz-trailer-signature:<sig>`) and an empty line. Bytes arrive in whatever pieces the HTTP layer hands over;
`feed` returns the decoded data of each piece, `finish` checks the framing ended where it should.

Signed streams (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`) chain each chunk's signature to the previous
one, starting from the request's own (seed) signature; each is checked as soon as its chunk is complete, so a
tampered chunk stops the upload there.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from edgeward.core.errors import ServiceError

UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_MODES = frozenset({UNSIGNED_TRAILER, SIGNED, SIGNED_TRAILER})

TRAILER_SIGNATURE = "x-amz-trailer-signature"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_MAX_LINE = 8192  # a chunk header or trailer line; far more than any client sends
_MAX_TRAILERS = 16

_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


@dataclass(frozen=True, slots=True)
class ChunkSigning:
    """What chains the chunk signatures: the SigV4 signing key, the request's date and scope, its signature."""

    key: bytes
    amz_date: str
    scope: str
    seed_signature: str


def incomplete_body() -> ServiceError:
    return ServiceError("IncompleteBody", "The request body terminated unexpectedly", 400)


def malformed_chunk(detail: str) -> ServiceError:
    return ServiceError("InvalidRequest", f"Invalid aws-chunked encoding: {detail}", 400)


def malformed_trailer() -> ServiceError:
    return ServiceError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published schema.",
        400,
    )


def chunk_signature_mismatch() -> ServiceError:
    return ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
    )


class AwsChunkedDecoder:
    """`feed(bytes) -> decoded bytes`, then `finish() -> trailers`. Raises `ServiceError` on bad framing."""

    def __init__(self, signing: ChunkSigning | None = None, *, signed_trailer: bool = False) -> None:
        self._signing = signing
        self._signed_trailer = signed_trailer and signing is not None
        self._previous = signing.seed_signature if signing else ""
        self._state = _HEADER
        self._line = bytearray()
        self._remaining = 0
        self._chunk_signature = ""
        self._chunk_hash = hashlib.sha256()
        self._trailers: dict[str, str] = {}
        self._trailer_lines: list[tuple[str, str]] = []
        self._trailer_signature = ""
        self.decoded_size = 0

    @property
    def trailers(self) -> dict[str, str]:
        """Trailer values by lower-case name (the trailer signature left out)."""
        return dict(self._trailers)

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        position, end = 0, len(data)
        while position < end:
            if self._state == _DATA:
                take = min(self._remaining, end - position)
                piece = data[position : position + take]
                position += take
                self._remaining -= take
                if self._signing is not None:
                    self._chunk_hash.update(piece)
                out.append(piece)
                if self._remaining == 0:
                    self._state = _DATA_END
                continue
            if self._state == _DONE:
                if data[position:].strip():
                    raise malformed_chunk("data after the final chunk")
                break
            newline = data.find(b"\n", position)
            if newline < 0:
                self._take_partial(data[position:])
                break
            self._take_partial(data[position : newline + 1])
            position = newline + 1
            line = bytes(self._line)
            self._line.clear()
            self._on_line(line)
        decoded = b"".join(out)
        self.decoded_size += len(decoded)
        return decoded

    def finish(self) -> dict[str, str]:
        """The trailers, once the body ended exactly after the final chunk and its trailer section."""
        if self._state != _DONE:
            raise incomplete_body()
        return self.trailers

    # -- lines ----------------------------------------------------------------------------------------

    def _take_partial(self, piece: bytes) -> None:
        self._line += piece
        if len(self._line) > _MAX_LINE:
            raise malformed_chunk("a chunk header or trailer line is too long")

    def _on_line(self, raw: bytes) -> None:
        if not raw.endswith(b"\r\n"):
            raise malformed_chunk("lines must end with CRLF")
        line = raw[:-2]
        if self._state == _HEADER:
            self._chunk_header(line)
        elif self._state == _DATA_END:
            if line:
                raise malformed_chunk("chunk data longer than its declared size")
            self._end_chunk()
            self._state = _HEADER
        else:
            self._trailer_line(line)

    def _chunk_header(self, line: bytes) -> None:
        size_text, _, extensions = line.partition(b";")
        try:
            text = size_text.decode("ascii").strip()
            size = int(text, 16)
        except (UnicodeDecodeError, ValueError):
            raise malformed_chunk(f"bad chunk size {size_text[:32]!r}") from None
        if size < 0 or not text.isalnum():
            raise malformed_chunk(f"bad chunk size {size_text[:32]!r}")
        self._chunk_signature = self._signature_extension(extensions)
        self._chunk_hash = hashlib.sha256()
        if size == 0:
            self._end_chunk()  # the final chunk has no data and no data CRLF: trailers (or the blank line) follow
            self._state = _TRAILER
        else:
            self._remaining = size
            self._state = _DATA

    def _signature_extension(self, extensions: bytes) -> str:
        if self._signing is None:
            return ""
        name, _, value = extensions.decode("ascii", "replace").partition("=")
        if name.strip() != "chunk-signature" or len(value.strip()) != 64:
            raise malformed_chunk("every chunk of a signed stream needs a chunk-signature")
        return value.strip().lower()

    def _end_chunk(self) -> None:
        if self._signing is None:
            return
        signing = self._signing
        to_sign = "\n".join(
            (
                "AWS4-HMAC-SHA256-PAYLOAD",
                signing.amz_date,
                signing.scope,
                self._previous,
                _EMPTY_SHA256,
                self._chunk_hash.hexdigest(),
            )
        )
        self._check(to_sign, self._chunk_signature)

    def _check(self, to_sign: str, provided: str) -> None:
        assert self._signing is not None
        expected = hmac.new(self._signing.key, to_sign.encode("utf-8"), "sha256").hexdigest()
        if not hmac.compare_digest(expected, provided):
            raise chunk_signature_mismatch()
        self._previous = expected

    # -- trailers -------------------------------------------------------------------------------------

    def _trailer_line(self, line: bytes) -> None:
        if not line:
            if self._signed_trailer and self._trailer_lines:
                self._check_trailer_signature()
            self._state = _DONE
            return
        name, colon, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if not colon or not name or len(self._trailer_lines) >= _MAX_TRAILERS:
            raise malformed_trailer()
        if name == TRAILER_SIGNATURE:
            self._trailer_signature = value.strip().lower()
        else:
            self._trailers[name] = value.strip()
        self._trailer_lines.append((name, value.strip()))

    def _check_trailer_signature(self) -> None:
        provided = self._trailer_signature
        if not provided:
            raise malformed_trailer()
        canonical = "".join(f"{name}:{value}\n" for name, value in self._trailer_lines if name != TRAILER_SIGNATURE)
        assert self._signing is not None
        to_sign = "\n".join(
            (
                "AWS4-HMAC-SHA256-TRAILER",
                self._signing.amz_date,
                self._signing.scope,
                self._previous,
                hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            )
        )
        self._check(to_sign, provided)
