"""Bring-your-own CA through boto3 and the AWS CLI: GetRegistrationCode, RegisterCACertificate with AWS's
proof of possession, the CA lifecycle, RegisterCertificate (with and without naming the CA),
RegisterCertificateWithoutCA, ListCertificatesByCA, and every refusal in IoT's words.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.serverfixtures import RunningServer

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def name(common_name: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def certificate(
    subject: x509.Name,
    key: Key,
    issuer: x509.Name,
    signer: Key,
    *,
    ca: bool = False,
    not_before: datetime | None = None,
    days: int = 365,
) -> x509.Certificate:
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(signer, hashes.SHA256())


@dataclass
class Ca:
    key: Key
    cert: x509.Certificate

    @classmethod
    def new(cls, common_name: str, **kwargs: Any) -> Ca:
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(key, certificate(name(common_name), key, name(common_name), key, ca=True, **kwargs))

    @property
    def pem(self) -> str:
        return pem(self.cert)

    def verification(self, code: str) -> str:
        """AWS's proof of possession: a certificate for the registration code, signed by the CA's key."""
        key = ec.generate_private_key(ec.SECP256R1())
        return pem(
            certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, code)]), key, self.cert.subject, self.key)
        )

    def device(self, common_name: str = "device", **kwargs: Any) -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        return pem(certificate(name(common_name), key, self.cert.subject, self.key, **kwargs))


def register(iot: Any, ca: Ca, **extra: Any) -> str:
    code = iot.get_registration_code()["registrationCode"]
    reply = iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification(code), **extra)
    return str(reply["certificateId"])


def test_registration_code_is_stable_per_account_and_region(server: RunningServer) -> None:
    iot = server.client("iot")
    code = iot.get_registration_code()["registrationCode"]
    assert len(code) == 64 and int(code, 16) >= 0
    assert iot.get_registration_code()["registrationCode"] == code
    assert server.client("iot", region="eu-west-1").get_registration_code()["registrationCode"] != code


def test_register_ca_with_proof_of_possession_then_devices(server: RunningServer) -> None:
    iot = server.client("iot")
    account = server.client("sts").get_caller_identity()["Account"]
    ca = Ca.new("Acme Fleet CA")
    ca_id = register(iot, ca, setAsActive=True, allowAutoRegistration=True, tags=[{"Key": "team", "Value": "edge"}])
    described = iot.describe_ca_certificate(certificateId=ca_id)
    description = described["certificateDescription"]
    assert description["certificateArn"] == f"arn:aws:iot:us-east-1:{account}:cacert/{ca_id}"
    assert (description["status"], description["autoRegistrationStatus"]) == ("ACTIVE", "ENABLE")
    assert description["certificateMode"] == "DEFAULT"
    assert description["ownedBy"] == account
    assert ca_id in {c["certificateId"] for c in iot.list_ca_certificates()["certificates"]}

    device_pem = ca.device("thermostat")
    registered = iot.register_certificate(certificatePem=device_pem, status="ACTIVE")
    device = iot.describe_certificate(certificateId=registered["certificateId"])["certificateDescription"]
    assert (device["caCertificateId"], device["status"], device["certificateMode"]) == (ca_id, "ACTIVE", "DEFAULT")
    named = iot.register_certificate(certificatePem=ca.device("named"), caCertificatePem=ca.pem)
    assert iot.describe_certificate(certificateId=named["certificateId"])["certificateDescription"]["status"] == (
        "INACTIVE"
    )
    by_ca = iot.list_certificates_by_ca(caCertificateId=ca_id, ascendingOrder=True)["certificates"]
    assert [c["certificateId"] for c in by_ca] == [registered["certificateId"], named["certificateId"]]

    with pytest.raises(ClientError) as caught:
        iot.register_certificate(certificatePem=device_pem)
    assert error_of(caught)[0::2] == ("ResourceAlreadyExistsException", 409)
    assert caught.value.response["resourceId"] == registered["certificateId"]
    with pytest.raises(ClientError) as caught:
        register(iot, ca)
    assert error_of(caught)[0::2] == ("ResourceAlreadyExistsException", 409)


def test_proof_of_possession_is_checked(server: RunningServer) -> None:
    iot = server.client("iot")
    code = iot.get_registration_code()["registrationCode"]
    ca, impostor = Ca.new("Proof CA"), Ca.new("Proof CA")  # same subject, another key
    with pytest.raises(ClientError) as caught:
        iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification("0" * 64))
    assert error_of(caught)[0::2] == ("RegistrationCodeValidationException", 400)
    with pytest.raises(ClientError) as caught:
        iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=impostor.verification(code))
    code_, message, status = error_of(caught)
    assert (code_, status) == ("CertificateValidationException", 400)
    assert "not signed by the CA certificate's private key" in message
    with pytest.raises(ClientError) as caught:
        iot.register_ca_certificate(caCertificate=ca.pem)
    assert error_of(caught)[0] == "InvalidRequestException"
    with pytest.raises(ClientError) as caught:
        iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="DEFAULT")
    assert error_of(caught)[0] == "InvalidRequestException"
    sni = iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="SNI_ONLY")  # no proof in SNI_ONLY
    assert iot.describe_ca_certificate(certificateId=sni["certificateId"])["certificateDescription"][
        "certificateMode"
    ] == ("SNI_ONLY")


@pytest.mark.parametrize(
    ("make_ca", "says"),
    [
        pytest.param(lambda: "garbage", "not a PEM-encoded X.509 certificate", id="garbage"),
        pytest.param(
            lambda: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "could not be parsed", id="broken"
        ),
        pytest.param(lambda: Ca.new("Leaf").device("not-a-ca"), "basicConstraints", id="not-a-ca"),
        pytest.param(
            lambda: Ca.new("Old CA", not_before=datetime.now(UTC) - timedelta(days=400)).pem, "expired", id="expired"
        ),
        pytest.param(
            lambda: pem(
                certificate(
                    name("weak"),
                    weak := rsa.generate_private_key(65537, 1024),
                    name("weak"),
                    weak,
                    ca=True,
                )
            ),
            "at least 2048 bits",
            id="rsa-1024",
        ),
    ],
)
def test_bad_ca_certificates(server: RunningServer, make_ca: Any, says: str) -> None:
    iot = server.client("iot")
    with pytest.raises(ClientError) as caught:
        iot.register_ca_certificate(caCertificate=make_ca(), certificateMode="SNI_ONLY")
    code, message, status = error_of(caught)
    assert (code, status) == ("CertificateValidationException", 400)
    assert says in message


def test_register_certificate_refusals(server: RunningServer) -> None:
    iot = server.client("iot")
    known = Ca.new("Known CA")
    known_id = register(iot, known)  # INACTIVE: setAsActive defaults to false
    unknown = Ca.new("Unknown CA")
    cases = [
        (dict(certificatePem=unknown.device()), "CertificateValidationException", "is not a CA certificate registered"),
        (
            dict(certificatePem=unknown.device(), caCertificatePem=unknown.pem),
            "CertificateValidationException",
            "not registered",
        ),
        (
            dict(certificatePem=unknown.device(), caCertificatePem=known.pem),
            "CertificateValidationException",
            "not signed by the given CA",
        ),
        (dict(certificatePem="-----BEGIN CERTIFICATE-----\n"), "CertificateValidationException", "could not be parsed"),
        (
            dict(certificatePem=known.device(not_before=datetime.now(UTC) - timedelta(days=30), days=1)),
            "CertificateValidationException",
            "expired",
        ),
        (dict(certificatePem=known.device()), "CertificateStateException", "is not ACTIVE"),
        (dict(certificatePem=known.device(), status="PENDING_TRANSFER"), "InvalidRequestException", "Invalid status"),
    ]
    for params, code, says in cases:
        with pytest.raises(ClientError) as caught:
            iot.register_certificate(**params)
        assert error_of(caught)[0] == code, (params, error_of(caught))
        assert says in error_of(caught)[1]

    iot.update_ca_certificate(certificateId=known_id, newStatus="ACTIVE", newAutoRegistrationStatus="ENABLE")
    device_id = iot.register_certificate(certificatePem=known.device(), status="INACTIVE")["certificateId"]
    iot.update_ca_certificate(certificateId=known_id, newStatus="INACTIVE")
    with pytest.raises(ClientError) as caught:
        iot.update_certificate(certificateId=device_id, newStatus="ACTIVE")
    assert error_of(caught)[0::2] == ("CertificateStateException", 406)


def test_ca_lifecycle(server: RunningServer) -> None:
    iot = server.client("iot")
    ca = Ca.new("Lifecycle CA")
    ca_id = register(iot, ca, setAsActive=True)
    with pytest.raises(ClientError) as caught:
        iot.delete_ca_certificate(certificateId=ca_id)
    assert error_of(caught)[0::2] == ("CertificateStateException", 406)
    config = {"templateBody": "{}", "roleArn": "arn:aws:iam::123456789012:role/JITP"}
    iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE", registrationConfig=config)
    described = iot.describe_ca_certificate(certificateId=ca_id)
    assert described["certificateDescription"]["status"] == "INACTIVE"
    assert described["certificateDescription"]["customerVersion"] == 2
    assert described["registrationConfig"] == config
    with pytest.raises(ClientError) as caught:
        iot.update_ca_certificate(certificateId=ca_id, removeAutoRegistration=True, registrationConfig=config)
    assert error_of(caught)[0] == "InvalidRequestException"
    iot.update_ca_certificate(certificateId=ca_id, removeAutoRegistration=True)
    assert "registrationConfig" not in iot.describe_ca_certificate(certificateId=ca_id)
    iot.delete_ca_certificate(certificateId=ca_id)
    for call in (
        lambda: iot.describe_ca_certificate(certificateId=ca_id),
        lambda: iot.update_ca_certificate(certificateId=ca_id, newStatus="ACTIVE"),
        lambda: iot.delete_ca_certificate(certificateId=ca_id),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught)[0::2] == ("ResourceNotFoundException", 404)


def test_register_certificate_without_ca(server: RunningServer) -> None:
    iot = server.client("iot")
    key = ec.generate_private_key(ec.SECP384R1())
    self_signed = pem(certificate(name("lonely"), key, name("lonely"), key))
    registered = iot.register_certificate_without_ca(certificatePem=self_signed, status="ACTIVE")
    described = iot.describe_certificate(certificateId=registered["certificateId"])["certificateDescription"]
    assert (described["status"], described["certificateMode"]) == ("ACTIVE", "SNI_ONLY")
    assert "caCertificateId" not in described
    with pytest.raises(ClientError) as caught:
        iot.register_certificate_without_ca(certificatePem=self_signed)
    assert error_of(caught)[0::2] == ("ResourceAlreadyExistsException", 409)
    with pytest.raises(ClientError) as caught:
        iot.register_certificate_without_ca(certificatePem="nonsense")
    assert error_of(caught)[0::2] == ("CertificateValidationException", 400)


def test_cli_registers_a_ca_and_a_device(server: RunningServer, tmp_path: Any) -> None:
    env = server.env()

    def aws(*args: str) -> dict[str, Any]:
        out = subprocess.run(["aws", "iot", *args], capture_output=True, text=True, env=env, check=False)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else {}

    code = aws("get-registration-code")["registrationCode"]
    ca = Ca.new("CLI CA")
    (tmp_path / "ca.pem").write_text(ca.pem)
    (tmp_path / "verify.pem").write_text(ca.verification(code))
    (tmp_path / "device.pem").write_text(ca.device("cli-device"))
    ca_id = aws(
        "register-ca-certificate",
        "--ca-certificate",
        f"file://{tmp_path / 'ca.pem'}",
        "--verification-certificate",
        f"file://{tmp_path / 'verify.pem'}",
        "--set-as-active",
    )["certificateId"]
    device = aws("register-certificate", "--certificate-pem", f"file://{tmp_path / 'device.pem'}", "--status", "ACTIVE")
    listed = aws("list-certificates-by-ca", "--ca-certificate-id", ca_id)["certificates"]
    assert [c["certificateId"] for c in listed] == [device["certificateId"]]


def test_concurrent_registrations_of_one_certificate_admit_exactly_one(server: RunningServer) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate_pem = pem(certificate(name("racer"), key, name("racer"), key))
    clients = [server.client("iot") for _ in range(8)]

    def attempt(iot: Any) -> str:
        try:
            iot.register_certificate_without_ca(certificatePem=certificate_pem)
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "registered"

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        outcomes = sorted(pool.map(attempt, clients))
    assert outcomes == ["ResourceAlreadyExistsException"] * 7 + ["registered"]
