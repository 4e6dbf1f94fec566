"""SigV4 verifications per second for a typical botocore-signed STS request.

The request is GetCallerIdentity with a session token, as boto3 sends it.

Prints three figures: warm (signing key cached, the steady state), cold (signing key derived every time, the
first request of a key each day), and botocore's own signing of the same request for scale.

    python bench/sigv4_verify.py [seconds-per-figure]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from edgeward.protocol import sigv4
from edgeward.protocol.http import HttpRequest

ACCESS_KEY = "ASIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "x" * 600
URL = "https://sts.edgeward.example:8443/"
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def _botocore_request() -> AWSRequest:
    return AWSRequest(
        method="POST",
        url=URL,
        data=BODY,
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "User-Agent": "Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux lang/python#3.11.7",
        },
    )


def signed_request() -> HttpRequest:
    request = _botocore_request()
    SigV4Auth(Credentials(ACCESS_KEY, SECRET, TOKEN), "sts", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = {"host": urlsplit(URL).netloc}
    for name, value in prepared.headers.items():
        headers[name.lower()] = value.decode() if isinstance(value, bytes) else str(value)
    return HttpRequest("POST", "/", "", headers, BODY)


def rate(action: Callable[[], object], seconds: float) -> float:
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(200):
            action()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    template = signed_request()
    now = time.time()

    def verify_warm() -> None:
        request = HttpRequest(template.method, template.raw_path, template.query_string, template.headers, BODY)
        signed = sigv4.read_signature(request)
        assert signed is not None
        sigv4.verify(request, signed, SECRET, now)

    def verify_cold() -> None:
        sigv4.clear_signing_key_cache()
        verify_warm()

    def botocore_sign() -> None:
        SigV4Auth(Credentials(ACCESS_KEY, SECRET, TOKEN), "sts", "us-east-1").add_auth(_botocore_request())

    verify_warm()
    warm = rate(verify_warm, seconds)
    cold = rate(verify_cold, seconds)
    sign = rate(botocore_sign, seconds)
    print(f"sigv4 verify, signing key cached : {warm:10,.0f} verifications/s ({1e6 / warm:6.1f} us each)")
    print(f"sigv4 verify, signing key derived: {cold:10,.0f} verifications/s ({1e6 / cold:6.1f} us each)")
    print(f"botocore SigV4Auth.add_auth      : {sign:10,.0f} signatures/s    ({1e6 / sign:6.1f} us each)")
    print(f"ratio verify(warm) / botocore sign: {warm / sign:.1f}x")


if __name__ == "__main__":
    main()
