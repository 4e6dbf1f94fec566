"""No issued secret is kept or logged in clear.

A server (debug logging, its credentials provider on a free port) goes through the acceptance flow's kinds of
secret: IAM access keys, AssumeRole and GetSessionToken credentials, credentials-provider sessions over mTLS,
CreateKeysAndCertificate private keys, console passwords (set, changed, mistyped) and console sessions. Each is
then searched for — as text, base64, URL-encoded and hex, private keys also as DER — in the server's log, every
file of the data directory (SQLite database, WAL, blobs) while running and after shutdown, and on PostgreSQL a
dump of every table and large object. The admin's own credentials file is the one place a secret is meant to be.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization

from tests.console.browser import Browser
from tests.e2e.mtls import Provider, allow, device_curl, make_device, start_provider, unique

ADMIN_FILE = "credentials"  # the admin's keys, written for the operator by design (like ~/.aws/credentials)


@pytest.fixture(params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory, request.param, "--log-level", "debug")


# -- the flow -------------------------------------------------------------------------------------------


def issue_secrets(provider: Provider, work: Path) -> dict[str, str]:
    """Every kind of secret the acceptance flow issues, used the way clients use them; label -> secret."""
    server = provider.server
    iam, sts = server.client("iam"), server.client("sts")
    secrets: dict[str, str] = {}

    name = unique("mateojackson")
    iam.create_user(UserName=name)
    for index in (1, 2):
        key = iam.create_access_key(UserName=name)["AccessKey"]
        secrets[f"user secret access key {index}"] = key["SecretAccessKey"]
    user_iam = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError):
        user_iam.list_users()  # a denial: the decision log and the log see this principal too

    secrets.update(_passwords(provider, iam, name, key))
    secrets.update(_sessions(provider, iam, sts, key))
    secrets.update(_device(provider, work))
    return secrets


def _passwords(provider: Provider, iam: Any, name: str, key: dict[str, str]) -> dict[str, str]:
    server = provider.server
    first, second, third, wrong = (f"Pw-{unique(kind)}-9!" for kind in ("first", "second", "third", "wrong"))
    iam.create_login_profile(UserName=name, Password=first)
    iam.update_login_profile(UserName=name, Password=second)
    iam.put_user_policy(UserName=name, PolicyName="own-password", PolicyDocument=allow(["iam:ChangePassword"], "*"))
    own = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    _eventually_allowed(lambda: own.change_password(OldPassword=second, NewPassword=third))
    browser = Browser(server.endpoint)
    assert browser.sign_in_with_password(name, wrong)[0] in (200, 400, 401, 403)
    status, _ = browser.sign_in_with_password(name, third)
    assert status == 200
    by_key = Browser(server.endpoint)
    assert by_key.sign_in_with_key(key["AccessKeyId"], key["SecretAccessKey"])[0] == 200
    secrets = {"first password": first, "second password": second, "third password": third, "mistyped": wrong}
    for label, jar in (("password", browser.jar), ("access key", by_key.jar)):
        for cookie in jar:
            if cookie.value and len(cookie.value) >= 16:
                secrets[f"console session cookie ({label} sign-in) {cookie.name}"] = cookie.value
    return secrets


def _sessions(provider: Provider, iam: Any, sts: Any, key: dict[str, str]) -> dict[str, str]:
    server = provider.server
    account = sts.get_caller_identity()["Account"]
    role = unique("AssumableRole")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=role, PolicyName="s3", PolicyDocument=allow(["s3:*"], "*"))
    assumed = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="secrets")["Credentials"]
    user_sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    session = user_sts.get_session_token()["Credentials"]
    secrets: dict[str, str] = {}
    for label, credentials in (("AssumeRole", assumed), ("GetSessionToken", session)):
        secrets[f"{label} secret access key"] = credentials["SecretAccessKey"]
        secrets[f"{label} session token"] = credentials["SessionToken"]
        _use_session(provider, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    return secrets


def _use_session(provider: Provider, key_id: str, secret: str, token: str) -> None:
    """The session on the wire: in headers (boto3), and in a presigned URL's query string (access logs)."""
    server = provider.server
    server.client("sts", key_id, secret, token).get_caller_identity()
    s3 = server.client("s3", key_id, secret, token, s3={"addressing_style": "path"})
    url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": unique("no-such-bucket")})
    try:
        urllib.request.urlopen(url, timeout=30).close()
    except urllib.error.HTTPError as refused:
        assert refused.code < 500, refused.read()


def _device(provider: Provider, work: Path) -> dict[str, str]:
    device = make_device(provider, work)
    result = device_curl(provider, device, thing=device.thing)
    assert result.status == 200, (result.body, result.stderr)
    credentials = result.json()["credentials"]
    _use_session(provider, credentials["accessKeyId"], credentials["secretAccessKey"], credentials["sessionToken"])
    return {
        "device private key": device.key_file.read_text(),
        "credentials-provider secret access key": credentials["secretAccessKey"],
        "credentials-provider session token": credentials["sessionToken"],
    }


def _eventually_allowed(call: Any) -> None:
    """A policy change governs every request within a second (the policy cache's generation check)."""
    for _ in range(50):
        try:
            call()
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "AccessDenied":
                raise
            time.sleep(0.1)
    call()


# -- what a leak looks like -----------------------------------------------------------------------------


def forms(secret: str) -> list[bytes]:
    """The byte strings whose presence would reveal `secret`."""
    raw = secret.encode()
    if "PRIVATE KEY-----" in secret:
        return _private_key_forms(secret)
    return [
        raw,
        base64.b64encode(raw),
        urllib.parse.quote(secret, safe="").encode(),
        binascii.hexlify(raw),
    ]


def _private_key_forms(pem: str) -> list[bytes]:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    ders = [
        key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL)
    ]
    # Any one 64-character line of the body is a piece of the key in clear — unless it encodes only the public
    # modulus, which the certificate carries too (and, by chance of alignment, as the very same line).
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    lines = [line for line in pem.strip().splitlines() if "-----" not in line and len(line) >= 48]
    secret_lines = [line.encode() for line in lines if base64.b64decode(line) not in public]
    return secret_lines + ders + [binascii.hexlify(der) for der in ders]


def leaks(secrets: dict[str, str], haystacks: dict[str, bytes]) -> list[str]:
    found = []
    for label, secret in secrets.items():
        for form in forms(secret):
            found += [f"{label} in {where}" for where, data in haystacks.items() if form in data]
    return sorted(set(found))


def data_dir_files(provider: Provider) -> dict[str, bytes]:
    data_dir = provider.server.data_dir
    files = {str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    files.pop(ADMIN_FILE, None)
    log = data_dir.parent / f"{data_dir.name}.log"
    files["server log"] = log.read_bytes()
    return files


def postgres_dump(provider: Provider) -> dict[str, bytes]:
    """Every row of every table as PostgreSQL prints it (bytea as hex), and every large object."""
    args = [str(arg) for arg in cast(list[Any], provider.server.process.args)]
    if "--database-url" not in args:
        return {}
    url = args[args.index("--database-url") + 1].replace("postgresql+psycopg://", "postgresql://")
    dump: dict[str, bytes] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(f'SELECT CAST(t AS text) FROM "{schema}"."{table}" t').fetchall()
            dump[f"table {table}"] = "\n".join(row[0] for row in rows).encode()
        objects = conn.execute("SELECT lo_get(oid) FROM pg_largeobject_metadata").fetchall()
        dump["large objects"] = b"\n".join(bytes(row[0]) for row in objects)
    return dump


# -- the test -------------------------------------------------------------------------------------------


def test_no_issued_secret_is_stored_or_logged_in_clear(provider: Provider, tmp_path: Path) -> None:
    secrets = issue_secrets(provider, tmp_path / "device")
    assert len(secrets) >= 14, sorted(secrets)

    # The search finds what is there: the admin's credentials file holds the admin's secret in clear.
    _, admin_secret = provider.server.admin_keys()
    admin_file = (provider.server.data_dir / ADMIN_FILE).read_bytes()
    assert leaks({"admin secret": admin_secret}, {ADMIN_FILE: admin_file}) == [f"admin secret in {ADMIN_FILE}"]

    running = {**data_dir_files(provider), **postgres_dump(provider)}
    assert running["server log"], "the server logged nothing at debug level"
    assert leaks(secrets, running) == []

    provider.server.stop()  # SQLite checkpoints its WAL into the database file on the way out
    assert leaks(secrets, data_dir_files(provider)) == []


def test_the_search_sees_through_encodings() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    hidden = {
        "plain": f"x={secret};".encode(),
        "url": ("token=" + urllib.parse.quote(secret, safe="")).encode(),
        "b64": base64.b64encode(secret.encode()),
        "hex": b"\\x" + binascii.hexlify(secret.encode()),
    }
    assert leaks({"s": secret}, hidden) == [f"s in {where}" for where in sorted(hidden)]
