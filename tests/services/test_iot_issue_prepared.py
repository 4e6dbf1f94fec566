"""Certificates issued with their signing done before the write transaction (`Work.prepare_outside`, SQLite's
group writer) or inline in it (PostgreSQL): the same replies either way, one authorization decision per
request, nothing prepared (no pool key handed out) for a caller that fails authentication or authorization,
and concurrent callers never sharing a key or a certificate. The device-key counters and the pool gauge
are read from the server's Prometheus metrics.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.serverfixtures import RunningServer
from tests.services.test_iot_certificates import error_of, make_csr
from tests.services.test_metrics import Samples, scrape, value

DECISIONS = "edgeward_authorization_decisions_total"
KEYS = "edgeward_device_keys_total"


def keys_handed_out(samples: Samples) -> float:
    return value(samples, KEYS, source="pool") + value(samples, KEYS, source="on_demand")


def powerless_client(server: RunningServer, service: str = "iot") -> tuple[Any, str]:
    """A client of a new user with no policy at all, and the user's ARN."""
    iam = server.client("iam")
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client(service, key["AccessKeyId"], key["SecretAccessKey"]), arn


def test_denied_caller_gets_aws_denial_one_decision_and_no_key(server: RunningServer) -> None:
    iot, arn = powerless_client(server)
    _, before = scrape(server)
    with pytest.raises(ClientError) as denied:
        iot.create_keys_and_certificate(setAsActive=True)
    code, message, status = error_of(denied)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (
        f"User: {arn} is not authorized to perform: iot:CreateKeysAndCertificate on resource: * "
        "because no identity-based policy allows the iot:CreateKeysAndCertificate action"
    )
    with pytest.raises(ClientError) as denied_csr:
        iot.create_certificate_from_csr(certificateSigningRequest=make_csr(ec.generate_private_key(ec.SECP256R1())))
    assert error_of(denied_csr)[0] == "AccessDeniedException"
    _, after = scrape(server)
    assert value(after, DECISIONS, decision="denied") - value(before, DECISIONS, decision="denied") == 2
    assert keys_handed_out(after) == keys_handed_out(before)  # nothing was prepared for them


def test_bad_signature_is_refused_like_any_other_iot_write(server: RunningServer) -> None:
    key, _ = server.admin_keys()
    forged = server.client("iot", key, "not-the-secret-" + "x" * 25)
    _, before = scrape(server)
    with pytest.raises(ClientError) as prepared_op:
        forged.create_keys_and_certificate(setAsActive=True)
    with pytest.raises(ClientError) as plain_op:
        forged.create_thing(thingName="never-created")
    _, after = scrape(server)
    assert error_of(prepared_op)[0] == error_of(plain_op)[0]
    assert error_of(prepared_op)[2] == error_of(plain_op)[2] == 403
    assert keys_handed_out(after) == keys_handed_out(before)
    assert value(after, DECISIONS, decision="allowed") == value(before, DECISIONS, decision="allowed")


def test_allowed_calls_decide_once_and_count_their_key(server: RunningServer) -> None:
    iot = server.client("iot")
    _, before = scrape(server)
    created = iot.create_keys_and_certificate(setAsActive=True)
    from_csr = iot.create_certificate_from_csr(
        certificateSigningRequest=make_csr(ec.generate_private_key(ec.SECP256R1()), "prepared-1"), setAsActive=False
    )
    _, after = scrape(server)
    assert value(after, DECISIONS, decision="allowed") - value(before, DECISIONS, decision="allowed") == 2
    assert keys_handed_out(after) - keys_handed_out(before) == 1  # the CSR call takes no key
    assert iot.describe_certificate(certificateId=created["certificateId"])["certificateDescription"]["status"] == (
        "ACTIVE"
    )
    described = iot.describe_certificate(certificateId=from_csr["certificateId"])["certificateDescription"]
    assert described["status"] == "INACTIVE"
    assert described["certificatePem"] == from_csr["certificatePem"]
    cert = x509.load_pem_x509_certificate(from_csr["certificatePem"].encode())
    assert cert.subject.rfc4514_string() == "CN=prepared-1"


def test_malformed_csr_is_invalid_request_after_authorization(server: RunningServer) -> None:
    iot = server.client("iot")
    with pytest.raises(ClientError) as bad:
        iot.create_certificate_from_csr(certificateSigningRequest="-----BEGIN CERTIFICATE REQUEST-----\nnope")
    assert error_of(bad)[0] == "InvalidRequestException" and error_of(bad)[2] == 400
    powerless, _ = powerless_client(server)
    with pytest.raises(ClientError) as denied:  # authorization comes first, as before any other check
        powerless.create_certificate_from_csr(certificateSigningRequest="garbage")
    assert error_of(denied)[0] == "AccessDeniedException"


def test_concurrent_callers_never_share_a_key_or_certificate(server: RunningServer) -> None:
    """More calls at once than the test server's pool holds (2): the rest generate their keys on demand."""
    iot = server.client("iot")
    _, before = scrape(server)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: iot.create_keys_and_certificate(setAsActive=True), range(24)))
    _, after = scrape(server)
    moduli = set()
    for result in results:
        key = serialization.load_pem_private_key(result["keyPair"]["PrivateKey"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        cert = x509.load_pem_x509_certificate(result["certificatePem"].encode())
        assert cert.public_key().public_numbers() == key.public_key().public_numbers()
        moduli.add(key.public_key().public_numbers().n)
    assert len(moduli) == 24
    assert len({result["certificateId"] for result in results}) == 24
    assert keys_handed_out(after) - keys_handed_out(before) == 24
    listed = iot.list_certificates(pageSize=250)["certificates"]
    assert {r["certificateId"] for r in results} <= {c["certificateId"] for c in listed}


def test_pool_gauge_reports_ready_keys(server: RunningServer) -> None:
    _, samples = scrape(server)
    assert 0 <= value(samples, "edgeward_key_pool_ready") <= 2  # the test server's --key-pool-size


def test_unauthenticated_malformed_request_gets_the_authentication_error(server: RunningServer) -> None:
    """Authentication comes before anything about the parameters, prepared or not."""
    key, _ = server.admin_keys()
    unchecked = server.client("iot", key, "not-the-secret-" + "x" * 25, parameter_validation=False)
    with pytest.raises(ClientError) as caught:
        unchecked.create_certificate_from_csr()  # no CSR at all
    assert error_of(caught)[2] == 403
    assert error_of(caught)[0] != "InvalidRequestException"


@pytest.mark.parametrize("operation", ["CreateThingType", "CreateCertificateFromCsr"])
def test_a_request_cannot_claim_to_be_prepared(server: RunningServer, operation: str) -> None:
    """The pipeline's own marker for prepared work, sent in a body, is dropped: the caller is still judged."""
    iot, _ = powerless_client(server)

    def inject(request: Any, **_: Any) -> None:
        body = json.loads(request.body or b"{}")
        body["__edgeward_prepared__"] = {"cert": "forged"}
        request.data = json.dumps(body).encode()
        request.headers["Content-Length"] = str(len(request.data))

    iot.meta.events.register(f"before-sign.iot.{operation}", inject)
    with pytest.raises(ClientError) as denied:
        if operation == "CreateThingType":
            iot.create_thing_type(thingTypeName=f"forged-{uuid.uuid4().hex[:6]}")
        else:
            iot.create_certificate_from_csr(certificateSigningRequest=make_csr(ec.generate_private_key(ec.SECP256R1())))
    assert error_of(denied)[0] == "AccessDeniedException"
