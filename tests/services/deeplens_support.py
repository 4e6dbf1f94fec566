"""Helpers for the DeepLens registration tests: a server with its credentials listener, the five roles of
seed 000 made through boto3, and the deeplens operations run the way the console runs them (in-process,
`services.invoke` on the server's database with its key-encryption key, as a chosen principal)."""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edgeward.core import arn as arns
from edgeward.core import ids
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.server.config import Config
from edgeward.services.deeplens.roles import ROLE_SPECS, expected_trust_policy
from edgeward.services.invoke import invoke
from edgeward.services.iot.authority import configure_key_pool
from edgeward.storage.database import Database, sqlite_url
from edgeward.storage.repos import users
from edgeward.storage.secrets import SecretBox
from tests.e2e.mtls import Provider

AGENT = [sys.executable, "-m", "edgeward.agent.cli"]
EDGEWARD = [sys.executable, "-m", "edgeward.cli.main"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def database_url(provider: Provider) -> str:
    args = [str(arg) for arg in provider.server.process.args]
    return args[args.index("--database-url") + 1] if "--database-url" in args else sqlite_url(provider.server.data_dir)


@dataclass
class DeepLens:
    """The deeplens operations of one server, as the console calls them."""

    provider: Provider
    db: Database
    box: SecretBox

    @functools.cached_property
    def account(self) -> str:
        return self.provider.account

    @property
    def endpoints(self) -> dict[str, str]:
        port = urlsplit(self.provider.server.endpoint).port
        assert port is not None
        return Config(port=port, mtls_port=self.provider.mtls_port).iot_endpoints()

    def root(self) -> Principal:
        account = self.account
        return Principal(PrincipalKind.ROOT, account, arns.root(account), account, "root", "")

    def user(self, name: str) -> Principal:
        with self.db.read() as conn:
            user = users.get_user(conn, self.account, name)
        assert user is not None
        return Principal(PrincipalKind.USER, user.account, user.arn, user.unique_id, user.name, "", entity_id=user.id)

    def call(self, operation: str, params: dict[str, Any], principal: Principal | None = None) -> dict[str, Any]:
        reading = operation.startswith(("Describe", "List"))
        principal = principal or self.root()  # before the transaction: the server may need the write lock
        with self.db.read() if reading else self.db.transaction() as conn:
            return invoke(
                conn,
                principal,
                "deeplens",
                operation,
                params,
                region="us-east-1",
                secrets=self.box,
                request_id=ids.request_id(),
                endpoints=self.endpoints,
            )

    def describe(self, name: str) -> dict[str, Any]:
        return self.call("DescribeDevice", {"DeviceName": name})["Device"]


def open_deeplens(provider: Provider) -> Iterator[DeepLens]:
    configure_key_pool(0)  # this process registers a few devices: no background pool of 200 keys
    db = Database(database_url(provider))
    try:
        yield DeepLens(provider, db, SecretBox.load_or_create(provider.server.data_dir / "kek"))
    finally:
        db.dispose()


def create_roles(provider: Provider) -> None:
    """Seed 000's five roles with the trust "Create role in IAM" gives them."""
    iam = provider.server.client("iam")
    for spec in ROLE_SPECS:
        iam.create_role(RoleName=spec.name, AssumeRolePolicyDocument=expected_trust_policy(spec))


def bundle_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def bundle_modes(data: bytes) -> dict[str, int]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}


def run(
    command: list[str], *, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done


def agent(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([*AGENT, *args], check=check)


def allow_policy(actions: list[str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def make_user(provider: Provider, actions: list[str]) -> str:
    iam = provider.server.client("iam")
    name = unique("operator")
    iam.create_user(UserName=name)
    if actions:
        iam.put_user_policy(UserName=name, PolicyName="deeplens", PolicyDocument=allow_policy(actions))
    return name


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
