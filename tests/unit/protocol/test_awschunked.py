"""The aws-chunked decoder: AWS's own signed example, botocore's unsigned trailer framing, and bad framing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import zlib

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from edgeward.core.errors import ServiceError
from edgeward.protocol import sigv4
from edgeward.protocol.awschunked import AwsChunkedDecoder, ChunkSigning
from edgeward.protocol.http import HttpRequest

# The worked example of AWS's "Signature Calculations ... Transferring Payload in Multiple Chunks" page.
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20130524T000000Z"
SCOPE = "20130524/us-east-1/s3/aws4_request"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
KEY = sigv4.signing_key(SECRET, "20130524", "us-east-1", "s3")


def aws_example_body() -> bytes:
    first, second, final = (sig.encode() for sig in CHUNK_SIGNATURES)
    return (
        b"10000;chunk-signature=" + first + b"\r\n" + b"a" * 65536 + b"\r\n"
        b"400;chunk-signature=" + second + b"\r\n" + b"a" * 1024 + b"\r\n"
        b"0;chunk-signature=" + final + b"\r\n\r\n"
    )


def signing() -> ChunkSigning:
    return ChunkSigning(KEY, AMZ_DATE, SCOPE, SEED)


def decode(decoder: AwsChunkedDecoder, body: bytes, piece: int) -> bytes:
    data = b"".join(decoder.feed(body[i : i + piece]) for i in range(0, len(body), piece))
    decoder.finish()
    return data


@pytest.mark.parametrize("piece", [1, 7, 1000, 100_000])
def test_aws_signed_example(piece: int) -> None:
    body = aws_example_body()
    assert len(body) == 66824  # the example's Content-Length
    assert decode(AwsChunkedDecoder(signing()), body, piece) == b"a" * 66560


def test_aws_example_seed_signature_and_signing_key() -> None:
    """The request's own signature verifies with the literal payload hash, and yields the chunks' key."""
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": AMZ_DATE,
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/{SCOPE},SignedHeaders=content-encoding;"
            "content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
            f"Signature={SEED}"
        ),
    }
    request = HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", headers)
    signed = sigv4.read_signature(request)
    assert signed is not None
    sigv4.verify(request, signed, SECRET, sigv4.amz_epoch(AMZ_DATE))
    assert sigv4.verified_signing_key(request, signed) == KEY


def test_tampered_chunk_is_refused() -> None:
    body = bytearray(aws_example_body())
    body[200] = ord("b")
    decoder = AwsChunkedDecoder(signing())
    with pytest.raises(ServiceError) as caught:
        decoder.feed(bytes(body))
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)


def test_signed_chunk_without_signature() -> None:
    with pytest.raises(ServiceError, match="chunk-signature"):
        AwsChunkedDecoder(signing()).feed(b"3\r\nabc\r\n")


def chain(signatures: list[str], data: bytes) -> str:
    to_sign = "\n".join(
        (
            "AWS4-HMAC-SHA256-PAYLOAD",
            AMZ_DATE,
            SCOPE,
            signatures[-1],
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(data).hexdigest(),
        )
    )
    signatures.append(hmac.new(KEY, to_sign.encode(), "sha256").hexdigest())
    return signatures[-1]


def signed_trailer_body(data: bytes, trailer_value: str, tamper_trailer: bool = False) -> bytes:
    signatures = [SEED]
    body = f"{len(data):x};chunk-signature={chain(signatures, data)}\r\n".encode() + data + b"\r\n"
    body += f"0;chunk-signature={chain(signatures, b'')}\r\n".encode()
    trailer = f"x-amz-checksum-crc32:{trailer_value}\n"
    to_sign = "\n".join(
        ("AWS4-HMAC-SHA256-TRAILER", AMZ_DATE, SCOPE, signatures[-1], hashlib.sha256(trailer.encode()).hexdigest())
    )
    trailer_signature = hmac.new(KEY, to_sign.encode(), "sha256").hexdigest()
    if tamper_trailer:
        trailer_value = "AAAAAA=="
    return (
        body + f"x-amz-checksum-crc32:{trailer_value}\r\nx-amz-trailer-signature:{trailer_signature}\r\n\r\n".encode()
    )


def test_signed_trailer() -> None:
    data = b"hello signed trailer"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    decoder = AwsChunkedDecoder(signing(), signed_trailer=True)
    assert decode(decoder, signed_trailer_body(data, crc), 5) == data
    assert decoder.trailers == {"x-amz-checksum-crc32": crc}


def test_signed_trailer_tampered() -> None:
    data = b"hello signed trailer"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    with pytest.raises(ServiceError) as caught:
        AwsChunkedDecoder(signing(), signed_trailer=True).feed(signed_trailer_body(data, crc, tamper_trailer=True))
    assert caught.value.code == "SignatureDoesNotMatch"


def botocore_unsigned(data: bytes, chunk_size: int) -> bytes:
    """The framing botocore sends over HTTPS: STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer."""
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32", chunk_size=chunk_size
    )
    return wrapper.read()


@pytest.mark.parametrize("piece", [1, 3, 4096, 10**6])
def test_botocore_unsigned_trailer(piece: int) -> None:
    data = bytes(range(256)) * 300
    decoder = AwsChunkedDecoder()
    assert decode(decoder, botocore_unsigned(data, 1000), piece) == data
    assert decoder.decoded_size == len(data)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert decoder.trailers == {"x-amz-checksum-crc32": crc}


def test_empty_body() -> None:
    decoder = AwsChunkedDecoder()
    assert decode(decoder, b"0\r\n\r\n", 1) == b""
    assert decoder.trailers == {}


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhello\r\n",  # no final chunk
        b"5\r\nhel",  # cut inside the data
        b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n",  # no blank line after the trailers
        b"",
    ],
)
def test_truncated_is_incomplete_body(body: bytes) -> None:
    decoder = AwsChunkedDecoder()
    decoder.feed(body)
    with pytest.raises(ServiceError) as caught:
        decoder.finish()
    assert (caught.value.code, caught.value.status) == ("IncompleteBody", 400)


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"3\r\nhello\r\n0\r\n\r\n",  # more data than declared
        b"5\nhello\r\n0\r\n\r\n",  # bare LF
        b"5\r\nhello\r\n0\r\n\r\nextra",  # data after the end
        b"f" * 10_000,  # an endless header line
        b"0\r\nno-colon\r\n\r\n",  # a trailer that is not name:value
    ],
)
def test_malformed_framing(body: bytes) -> None:
    with pytest.raises(ServiceError) as caught:
        AwsChunkedDecoder().feed(body)
    assert caught.value.status == 400
    assert caught.value.code in ("InvalidRequest", "MalformedTrailerError")
