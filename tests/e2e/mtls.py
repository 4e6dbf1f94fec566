"""Helpers for tests of the credentials provider: a server with its mTLS listener on a free port, devices
set up the way seed 001 does it (boto3), curl and Python TLS clients, and certificates of outside CAs.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.serverfixtures import (
    PG_ENV,
    PG_SKIP,
    RunningServer,
    drop_postgres,
    free_port,
    fresh_postgres_url,
    start_server,
)

CREDENTIALS_SERVICE = "credentials.iot.amazonaws.com"


@dataclass
class Provider:
    """A running edgeward and its credentials provider."""

    server: RunningServer
    mtls_port: int

    @property
    def ca_file(self) -> Path:
        return self.server.data_dir / "ca.pem"

    @property
    def account(self) -> str:
        return str(self.server.client("sts").get_caller_identity()["Account"])

    def endpoint(self) -> str:
        """What the seed uses: DescribeEndpoint's answer for iot:CredentialProvider."""
        iot = self.server.client("iot")
        return str(iot.describe_endpoint(endpointType="iot:CredentialProvider")["endpointAddress"])

    def url(self, alias: str) -> str:
        return f"https://{self.endpoint()}/role-aliases/{alias}/credentials"


def start_provider(
    tmp_path_factory: pytest.TempPathFactory, backend: str, *extra: str, mtls_port: int | None = None
) -> Iterator[Provider]:
    base_url = os.environ.get(PG_ENV)
    if backend == "postgres" and not base_url:
        pytest.skip(PG_SKIP)
    data_dir = tmp_path_factory.mktemp("edgeward") / "data"
    database_url, db_name = (None, None)
    if backend == "postgres":
        assert base_url
        database_url, db_name = fresh_postgres_url(base_url)
    mtls_port = mtls_port or free_port()
    args = ["--mtls-port", str(mtls_port), *extra]
    running = start_server(data_dir, backend, database_url, extra_args=args)
    try:
        yield Provider(running, mtls_port)
    finally:
        running.stop()
        if db_name and base_url:
            drop_postgres(base_url, db_name)


def trust_policy(*services: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}],
        }
    )


def allow(actions: list[str], resource: str | list[str]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


@dataclass
class Device:
    """A device as seed 001 sets it up: its files, its certificate, its thing, its alias and role."""

    cert_file: Path
    key_file: Path
    certificate_id: str
    certificate_arn: str
    thing: str
    alias: str
    alias_arn: str
    role: str


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_role(
    provider: Provider, *, trusted: tuple[str, ...] = (CREDENTIALS_SERVICE,), max_duration: int = 3600
) -> str:
    """A role for devices: it may describe its own thing (the session's credentials-iot:ThingName)."""
    iam = provider.server.client("iam")
    name = unique("DeviceRole")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy(*trusted), MaxSessionDuration=max_duration)
    iam.put_role_policy(
        RoleName=name,
        PolicyName="own-thing",
        PolicyDocument=allow(["iot:DescribeThing"], "arn:aws:iot:*:*:thing/${credentials-iot:ThingName}"),
    )
    return name


def make_device(provider: Provider, directory: Path, *, role: str | None = None, duration: int = 3600) -> Device:
    """Seed 001's steps: role alias, keys and certificate, thing (with a type), alias policy on the cert."""
    server = provider.server
    iot, iam = server.client("iot"), server.client("iam")
    role = role or make_role(provider)
    role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    alias = unique("SageMakerEdge-fleet")
    alias_arn = iot.create_role_alias(roleAlias=alias, roleArn=role_arn, credentialDurationSeconds=duration)[
        "roleAliasArn"
    ]
    created = iot.create_keys_and_certificate(setAsActive=True)
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "device.pem.crt", directory / "private.pem.key"
    cert_file.write_text(created["certificatePem"])
    key_file.write_text(created["keyPair"]["PrivateKey"])
    thing_type = unique("getting-started-demo")
    thing = unique("sample-device")
    iot.create_thing_type(thingTypeName=thing_type)
    iot.create_thing(thingName=thing, thingTypeName=thing_type)
    iot.attach_thing_principal(thingName=thing, principal=created["certificateArn"])
    policy = unique("aliaspolicy")
    document = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": alias_arn},
    }
    iot.create_policy(policyName=policy, policyDocument=json.dumps(document))
    iot.attach_policy(policyName=policy, target=created["certificateArn"])
    return Device(
        cert_file, key_file, created["certificateId"], created["certificateArn"], thing, alias, alias_arn, role
    )


@dataclass
class CurlResult:
    exit_code: int
    status: int
    body: str
    headers: dict[str, str]
    stderr: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError(
                f"not JSON: curl exit {self.exit_code}, HTTP {self.status}: {self.body!r} {self.stderr!r}"
            ) from None


def curl(
    provider: Provider,
    url: str,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    thing: str | None = None,
    extra: tuple[str, ...] = (),
) -> CurlResult:
    """curl as the seed runs it: `curl --cert device.pem.crt --key private.pem.key --cacert ca.pem URL`."""
    headers_file = provider.server.data_dir.parent / f"headers-{uuid.uuid4().hex}"
    args = ["curl", "-sS", "--cacert", str(provider.ca_file), "-D", str(headers_file), "-w", "\n%{http_code}"]
    if cert is not None:
        args += ["--cert", str(cert)]
    if key is not None:
        args += ["--key", str(key)]
    if thing is not None:
        args += ["-H", f"x-amzn-iot-thingname: {thing}"]
    args += [*extra, url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    body, _, status = done.stdout.rpartition("\n")
    headers: dict[str, str] = {}
    if headers_file.exists():
        for line in headers_file.read_text().splitlines()[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        headers_file.unlink()
    return CurlResult(done.returncode, int(status or 0), body, headers, done.stderr)


def device_curl(
    provider: Provider, device: Device, *, thing: str | None = None, alias: str | None = None
) -> CurlResult:
    return curl(provider, provider.url(alias or device.alias), cert=device.cert_file, key=device.key_file, thing=thing)


def client_context(provider: Provider, cert: Path, key: Path, **versions: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(provider.ca_file))
    context.load_cert_chain(str(cert), str(key))
    if "minimum" in versions:
        context.minimum_version = versions["minimum"]
    if "maximum" in versions:
        context.maximum_version = versions["maximum"]
    return context


def https_connection(provider: Provider, context: ssl.SSLContext) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection("127.0.0.1", provider.mtls_port, context=context, timeout=15)


def get(connection: http.client.HTTPSConnection, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


# -- certificates from CAs edgeward does not run -----------------------------------------------------


@dataclass
class OutsideCa:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def outside_ca(common_name: str = "Outside Test CA") -> OutsideCa:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return OutsideCa(key, certificate)


def leaf(
    issuer: OutsideCa | None,
    directory: Path,
    *,
    common_name: str = "outside-device",
    expired: bool = False,
) -> tuple[Path, Path, x509.Certificate]:
    """A client certificate signed by `issuer` (self-signed when None), written as (cert file, key file)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    start, end = (
        (now - timedelta(days=30), now - timedelta(days=1))
        if expired
        else (now - timedelta(days=1), now + timedelta(days=30))
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.certificate.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    directory.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex[:8]
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return cert_file, key_file, certificate


def grant_alias(provider: Provider, certificate_arn: str, alias_arn: str) -> None:
    """An IoT policy allowing iot:AssumeRoleWithCertificate on the alias, attached to the certificate."""
    iot = provider.server.client("iot")
    policy = unique("aliaspolicy")
    iot.create_policy(policyName=policy, policyDocument=allow(["iot:AssumeRoleWithCertificate"], alias_arn))
    iot.attach_policy(policyName=policy, target=certificate_arn)


def eventually(check: Any, attempts: int = 100, pause: float = 0.1) -> Any:
    """`check()` once it returns something true: the listener re-reads its trusted set about every second."""
    result = None
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(pause)
    return result
