"""IoT certificates issued by edgeward's own CA, through boto3, the AWS CLI and openssl: the seed's
create-keys-and-certificate, CSRs with RSA and EC keys, status changes, deletion rules, listings and
authorization.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from tests.serverfixtures import RunningServer

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def account_of(server: RunningServer) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def make_csr(key: PrivateKey, common_name: str = "sensor-1") -> str:
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, algorithm)
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def public_der(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def openssl_verify(server: RunningServer, cert_pem: str, tmp_path: Path) -> None:
    path = tmp_path / "device.pem.crt"
    path.write_text(cert_pem)
    ca = server.data_dir / "ca.pem"
    out = subprocess.run(
        ["openssl", "verify", "-purpose", "sslclient", "-CAfile", str(ca), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stdout + out.stderr


# -- CreateKeysAndCertificate ---------------------------------------------------------------------------------


def test_seed_cli_create_keys_and_certificate(server: RunningServer, tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("device.pem.crt", "public.pem.key", "private.pem.key")}
    out = subprocess.run(
        [
            "aws",
            "iot",
            "create-keys-and-certificate",
            "--set-as-active",
            "--certificate-pem-outfile",
            str(files["device.pem.crt"]),
            "--public-key-outfile",
            str(files["public.pem.key"]),
            "--private-key-outfile",
            str(files["private.pem.key"]),
        ],
        capture_output=True,
        text=True,
        env=server.env(),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    account = account_of(server)
    cert = x509.load_pem_x509_certificate(files["device.pem.crt"].read_bytes())
    key = serialization.load_pem_private_key(files["private.pem.key"].read_bytes(), None)
    public = serialization.load_pem_public_key(files["public.pem.key"].read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert public_der(key.public_key()) == public_der(cert.public_key()) == public_der(public)
    certificate_id = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert reply["certificateId"] == certificate_id
    assert reply["certificateArn"] == f"arn:aws:iot:us-east-1:{account}:cert/{certificate_id}"
    assert files["private.pem.key"].read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    openssl_verify(server, files["device.pem.crt"].read_text(), tmp_path)
    described = server.client("iot").describe_certificate(certificateId=certificate_id)["certificateDescription"]
    assert described["status"] == "ACTIVE"
    assert described["ownedBy"] == account
    assert described["certificateMode"] == "DEFAULT"
    assert "caCertificateId" not in described
    assert described["certificatePem"] == files["device.pem.crt"].read_text()
    assert described["validity"]["notBefore"] < described["creationDate"] < described["validity"]["notAfter"]


def test_create_keys_and_certificate_is_inactive_by_default_and_never_keeps_the_key(server: RunningServer) -> None:
    iot = server.client("iot")
    created = iot.create_keys_and_certificate()
    described = iot.describe_certificate(certificateId=created["certificateId"])["certificateDescription"]
    assert described["status"] == "INACTIVE"
    assert described["customerVersion"] == 1
    assert "PRIVATE KEY" not in json.dumps(described, default=str)
    other = iot.create_keys_and_certificate(setAsActive=True)
    assert other["keyPair"]["PrivateKey"] != created["keyPair"]["PrivateKey"]


# -- CreateCertificateFromCsr -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(lambda: rsa.generate_private_key(65537, 2048), id="rsa-2048"),
        pytest.param(lambda: rsa.generate_private_key(65537, 3072), id="rsa-3072"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256R1()), id="ec-p256"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP384R1()), id="ec-p384"),
    ],
)
def test_certificate_from_csr_keeps_the_device_key(server: RunningServer, tmp_path: Path, key: Any) -> None:
    device_key = key()
    iot = server.client("iot")
    created = iot.create_certificate_from_csr(certificateSigningRequest=make_csr(device_key), setAsActive=True)
    assert set(created) - {"ResponseMetadata"} == {"certificateArn", "certificateId", "certificatePem"}
    cert = x509.load_pem_x509_certificate(created["certificatePem"].encode())
    assert public_der(cert.public_key()) == public_der(device_key.public_key())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "sensor-1"
    assert created["certificateId"] == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    openssl_verify(server, created["certificatePem"], tmp_path)
    assert iot.describe_certificate(certificateId=created["certificateId"])["certificateDescription"]["status"] == (
        "ACTIVE"
    )


def _tampered_csr() -> str:
    pem = make_csr(ec.generate_private_key(ec.SECP256R1()), "original")
    csr = x509.load_pem_x509_csr(pem.encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    at = bytes(der).index(b"original")
    der[at : at + 8] = b"tampered"  # the subject changes; the signature over it no longer holds
    body = __import__("base64").encodebytes(bytes(der)).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


@pytest.mark.parametrize(
    ("csr", "says"),
    [
        pytest.param(lambda: "not a csr at all", "not a PEM-encoded PKCS#10 request", id="garbage"),
        pytest.param(
            lambda: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            "could not be parsed",
            id="broken-pem",
        ),
        pytest.param(lambda: make_csr(rsa.generate_private_key(65537, 1024)), "at least 2048 bits", id="rsa-1024"),
        pytest.param(lambda: make_csr(ec.generate_private_key(ec.SECP521R1())), "secp521r1", id="ec-p521"),
        pytest.param(lambda: make_csr(ed25519.Ed25519PrivateKey.generate()), "Ed25519", id="ed25519"),
        pytest.param(_tampered_csr, "signature is not valid", id="bad-signature"),
    ],
)
def test_bad_csrs_are_invalid_requests(server: RunningServer, csr: Any, says: str) -> None:
    iot = server.client("iot")
    before = len(iot.list_certificates(pageSize=250)["certificates"])
    with pytest.raises(ClientError) as caught:
        iot.create_certificate_from_csr(certificateSigningRequest=csr())
    code, message, status = error_of(caught)
    assert (code, status) == ("InvalidRequestException", 400)
    assert says in message
    assert len(iot.list_certificates(pageSize=250)["certificates"]) == before


# -- UpdateCertificate / DeleteCertificate ----------------------------------------------------------------


def test_status_changes_and_revocation_is_final(server: RunningServer) -> None:
    iot = server.client("iot")
    certificate_id = iot.create_keys_and_certificate()["certificateId"]

    def status() -> str:
        return str(iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]["status"])

    iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    assert status() == "ACTIVE"
    described = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]
    assert described["customerVersion"] == 2
    assert described["lastModifiedDate"] >= described["creationDate"]
    with pytest.raises(ClientError) as caught:
        iot.update_certificate(certificateId=certificate_id, newStatus="PENDING_TRANSFER")
    assert error_of(caught)[0] == "InvalidRequestException"
    iot.update_certificate(certificateId=certificate_id, newStatus="REVOKED")
    with pytest.raises(ClientError) as caught:
        iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    code, message, status_code = error_of(caught)
    assert (code, status_code) == ("CertificateStateException", 406)
    assert "REVOKED" in message
    assert status() == "REVOKED"
    iot.delete_certificate(certificateId=certificate_id)  # revoked is not ACTIVE: it may go


def test_delete_rules(server: RunningServer) -> None:
    iot = server.client("iot")
    created = iot.create_keys_and_certificate(setAsActive=True)
    certificate_id, arn = created["certificateId"], created["certificateArn"]
    with pytest.raises(ClientError) as caught:
        iot.delete_certificate(certificateId=certificate_id)
    assert error_of(caught) == (
        "CertificateStateException",
        f"Certificate must be deactivated (not ACTIVE) before deletion. Id: {certificate_id}",
        406,
    )
    iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")

    iot.create_thing(thingName="cert-holder")
    iot.attach_thing_principal(thingName="cert-holder", principal=arn)
    with pytest.raises(ClientError) as caught:
        iot.delete_certificate(certificateId=certificate_id, forceDelete=True)
    assert error_of(caught) == ("DeleteConflictException", f"Things must be detached before deletion (arn: {arn})", 409)
    iot.detach_thing_principal(thingName="cert-holder", principal=arn)

    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
    )
    iot.create_policy(policyName="cert-delete-policy", policyDocument=document)
    iot.attach_policy(policyName="cert-delete-policy", target=arn)
    with pytest.raises(ClientError) as caught:
        iot.delete_certificate(certificateId=certificate_id)
    assert error_of(caught) == (
        "DeleteConflictException",
        f"Certificate policies must be detached before deletion (arn: {arn})",
        409,
    )
    iot.delete_certificate(certificateId=certificate_id, forceDelete=True)  # detaches the policy
    assert iot.list_targets_for_policy(policyName="cert-delete-policy")["targets"] == []
    with pytest.raises(ClientError) as caught:
        iot.describe_certificate(certificateId=certificate_id)
    assert error_of(caught)[0::2] == ("ResourceNotFoundException", 404)


def test_unknown_certificates_are_not_found(server: RunningServer) -> None:
    iot = server.client("iot")
    missing = "ab" * 32
    calls = [
        lambda: iot.describe_certificate(certificateId=missing),
        lambda: iot.update_certificate(certificateId=missing, newStatus="INACTIVE"),
        lambda: iot.delete_certificate(certificateId=missing),
    ]
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("ResourceNotFoundException", 404)
        assert missing in message
    unchecked = server.client("iot", parameter_validation=False)
    with pytest.raises(ClientError) as caught:
        unchecked.describe_certificate(certificateId="xyz")
    assert error_of(caught)[0::2] == ("InvalidRequestException", 400)


def test_certificates_are_regional(server: RunningServer) -> None:
    certificate_id = server.client("iot").create_keys_and_certificate()["certificateId"]
    elsewhere = server.client("iot", region="eu-west-1")
    with pytest.raises(ClientError) as caught:
        elsewhere.describe_certificate(certificateId=certificate_id)
    assert error_of(caught)[0] == "ResourceNotFoundException"
    assert certificate_id not in {c["certificateId"] for c in elsewhere.list_certificates()["certificates"]}


# -- ListCertificates ------------------------------------------------------------------------------------------


def test_list_certificates_pages_by_creation_date(server: RunningServer) -> None:
    iot = server.client("iot", region="ap-south-1")  # a region of its own: only these certificates
    made = [iot.create_keys_and_certificate()["certificateId"] for _ in range(5)]
    newest_first = []
    page = iot.list_certificates(pageSize=2)
    while True:
        newest_first += [c["certificateId"] for c in page["certificates"]]
        assert len(page["certificates"]) <= 2
        if "nextMarker" not in page:
            break
        page = iot.list_certificates(pageSize=2, marker=page["nextMarker"])
    assert newest_first == made[::-1]
    ascending = iot.list_certificates(ascendingOrder=True)["certificates"]
    assert [c["certificateId"] for c in ascending] == made
    assert {c["status"] for c in ascending} == {"INACTIVE"}
    paginated = iot.get_paginator("list_certificates").paginate(PaginationConfig={"PageSize": 3})
    assert sum(len(p["certificates"]) for p in paginated) == 5
    with pytest.raises(ClientError) as caught:
        iot.list_certificates(marker="bm90IGEgbWFya2Vy")
    assert error_of(caught)[0] == "InvalidRequestException"


# -- authorization ---------------------------------------------------------------------------------------------


def test_every_operation_is_authorized_with_its_action_and_resource(server: RunningServer) -> None:
    admin_iam = server.client("iam")
    account = account_of(server)
    iot = server.client("iot")
    mine = iot.create_keys_and_certificate()["certificateId"]
    theirs = iot.create_keys_and_certificate()["certificateId"]
    admin_iam.create_user(UserName="cert-reader")
    key = admin_iam.create_access_key(UserName="cert-reader")["AccessKey"]
    user_arn = f"arn:aws:iam::{account}:user/cert-reader"
    reader = server.client("iot", key["AccessKeyId"], key["SecretAccessKey"])

    with pytest.raises(ClientError) as caught:
        reader.create_keys_and_certificate()
    assert error_of(caught)[:2] == (
        "AccessDeniedException",
        f"User: {user_arn} is not authorized to perform: iot:CreateKeysAndCertificate on resource: * "
        "because no identity-based policy allows the iot:CreateKeysAndCertificate action",
    )
    mine_arn = f"arn:aws:iot:us-east-1:{account}:cert/{mine}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iot:DescribeCertificate", "iot:UpdateCertificate"], "Resource": mine_arn}
        ],
    }
    admin_iam.put_user_policy(UserName="cert-reader", PolicyName="one-cert", PolicyDocument=json.dumps(policy))
    assert reader.describe_certificate(certificateId=mine)["certificateDescription"]["certificateArn"] == mine_arn
    reader.update_certificate(certificateId=mine, newStatus="ACTIVE")
    for call, action in [
        (lambda: reader.describe_certificate(certificateId=theirs), "iot:DescribeCertificate"),
        (lambda: reader.delete_certificate(certificateId=mine), "iot:DeleteCertificate"),
        (lambda: reader.list_certificates(), "iot:ListCertificates"),
    ]:
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("AccessDeniedException", 403)
        assert f"is not authorized to perform: {action} on resource: " in message
    # a denial comes before any hint of whether the certificate exists
    with pytest.raises(ClientError) as caught:
        reader.describe_certificate(certificateId="cd" * 32)
    assert error_of(caught)[0] == "AccessDeniedException"
