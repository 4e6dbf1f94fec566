"""edgeward-agent against a real server over real mTLS: `credential_process` for the AWS CLI, the loopback
container-credentials endpoint for boto3, and enrolment with a CSR whose key never leaves the device."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.e2e.mtls import Device, Provider, make_device, make_role, start_provider, unique

AGENT = [sys.executable, "-m", "edgeward.agent.cli"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def device(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Device:
    return make_device(provider, tmp_path_factory.mktemp("device"))


def agent(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([*AGENT, *args], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def configure(provider: Provider, device: Device, directory: Path) -> Path:
    config = directory / "agent.json"
    agent(
        "configure",
        "--config",
        str(config),
        "--certificate",
        str(device.cert_file),
        "--private-key",
        str(device.key_file),
        "--ca",
        str(provider.ca_file),
        "--endpoint",
        provider.endpoint(),
        "--role-alias",
        device.alias,
        "--thing-name",
        device.thing,
    )
    return config


def aws_env(provider: Provider, aws_config: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(aws_config),
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_ENDPOINT_URL=provider.server.endpoint,
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def test_credential_process_serves_the_aws_cli(provider: Provider, device: Device, tmp_path: Path) -> None:
    config = configure(provider, device, tmp_path)
    aws_config = tmp_path / "aws-config"
    aws_config.write_text(
        f"[profile device]\ncredential_process = {sys.executable} -m edgeward.agent.cli credentials --config {config}\n"
    )
    done = subprocess.run(
        ["aws", "--profile", "device", "sts", "get-caller-identity", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=aws_env(provider, aws_config),
    )
    assert done.returncode == 0, done.stderr
    arn = json.loads(done.stdout)["Arn"]
    assert arn.endswith(f":assumed-role/{device.role}/{device.certificate_id}")
    cached = json.loads((device.cert_file.parent / f".credentials-{device.alias}.json").read_text())
    assert cached["credentials"]["accessKeyId"].startswith("ASIA")
    assert (device.cert_file.parent / f".credentials-{device.alias}.json").stat().st_mode & 0o777 == 0o600


def test_container_endpoint_serves_boto3(provider: Provider, device: Device, tmp_path: Path) -> None:
    config = configure(provider, device, tmp_path)
    process = subprocess.Popen(
        [*AGENT, "serve-credentials", "--config", str(config)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        exports = dict(
            re.match(r"export (\w+)=(.*)", process.stdout.readline().strip()).groups()  # type: ignore[union-attr, misc]
            for _ in range(2)
        )
        os.environ.update(exports)  # how a device's SDKs find the endpoint
        try:
            session = boto3.Session(region_name="us-east-1")
            sts = session.client("sts", endpoint_url=provider.server.endpoint)
            arn = sts.get_caller_identity()["Arn"]
        finally:
            for key in exports:
                os.environ.pop(key, None)
        assert arn.endswith(f":assumed-role/{device.role}/{device.certificate_id}")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_enrol_with_a_csr_keeps_the_key_on_the_device(provider: Provider, tmp_path: Path) -> None:
    key, csr = tmp_path / "device.key", tmp_path / "device.csr"
    agent("enrol", "--key-out", str(key), "--csr-out", str(csr), "--common-name", "camera-7")
    server = provider.server
    iot, iam = server.client("iot"), server.client("iam")
    created = iot.create_certificate_from_csr(certificateSigningRequest=csr.read_text(), setAsActive=True)
    (tmp_path / "device.crt").write_text(created["certificatePem"])
    role = make_role(provider)
    alias = unique("enrolled")
    alias_arn = iot.create_role_alias(roleAlias=alias, roleArn=iam.get_role(RoleName=role)["Role"]["Arn"])[
        "roleAliasArn"
    ]
    policy = unique("enrolled-policy")
    statement = {"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": alias_arn}
    iot.create_policy(policyName=policy, policyDocument=json.dumps({"Version": "2012-10-17", "Statement": statement}))
    iot.attach_policy(policyName=policy, target=created["certificateArn"])
    config = tmp_path / "agent.json"
    agent(
        "configure",
        "--config",
        str(config),
        "--certificate",
        str(tmp_path / "device.crt"),
        "--private-key",
        str(key),
        "--ca",
        str(provider.ca_file),
        "--endpoint",
        provider.endpoint(),
        "--role-alias",
        alias,
    )
    issued = json.loads(agent("credentials", "--config", str(config)))
    assert issued["Version"] == 1 and issued["AccessKeyId"].startswith("ASIA")
    assert key.read_text() not in json.dumps(created)  # the server never saw the private key


def test_refused_certificate_is_reported(provider: Provider, tmp_path: Path) -> None:
    device = make_device(provider, tmp_path / "revoked")
    provider.server.client("iot").update_certificate(certificateId=device.certificate_id, newStatus="REVOKED")
    config = configure(provider, device, tmp_path)
    done = subprocess.run([*AGENT, "credentials", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "credentials provider" in done.stderr and "403" in done.stderr
