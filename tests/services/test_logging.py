"""`edgeward serve --log-format json`: every line of the output is one JSON object; each request's line has its
request id, service, operation, status, duration and caller; errors carry the id the client was given; and
no secret issued or used during the run (secret keys, session tokens, private keys, passwords) is in the log.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.serverfixtures import PG_ENV, PG_SKIP, RunningServer, drop_postgres, fresh_postgres_url, start_server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def json_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    import os

    base_url = os.environ.get(PG_ENV)
    if request.param == "postgres" and not base_url:
        pytest.skip(PG_SKIP)
    database_url, db_name = fresh_postgres_url(base_url) if request.param == "postgres" and base_url else (None, None)
    data_dir = tmp_path_factory.mktemp("logs") / "data"
    # --log-level info after the fixture's own `warning`: the last one wins
    server = start_server(data_dir, request.param, database_url, ["--log-format", "json", "--log-level", "info"])
    try:
        yield server
    finally:
        server.stop()
        if db_name and base_url:
            drop_postgres(base_url, db_name)


def log_path(server: RunningServer) -> Path:
    return server.data_dir.parent / f"{server.data_dir.name}.log"


def log_entries(server: RunningServer) -> list[dict[str, Any]]:
    lines = log_path(server).read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]  # every line must parse
    assert all(isinstance(entry, dict) for entry in entries)
    return entries


def access_entry(server: RunningServer, request_id: str) -> dict[str, Any]:
    found = [e for e in log_entries(server) if e.get("request_id") == request_id and e["logger"] == "edgeward.access"]
    assert len(found) == 1, request_id
    return found[0]


def test_every_line_is_json_and_requests_carry_their_id(json_server: RunningServer) -> None:
    iam = json_server.client("iam")
    name = f"logged-{uuid.uuid4().hex[:8]}"
    reply = iam.create_user(UserName=name)
    entry = access_entry(json_server, reply["ResponseMetadata"]["RequestId"])
    assert entry["service"] == "iam" and entry["operation"] == "CreateUser" and entry["status"] == 200
    assert entry["level"] == "INFO"
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["principal"].endswith(":user/admin")
    assert entry["time"].endswith("+00:00")


def test_errors_are_logged_with_the_id_the_client_got(json_server: RunningServer) -> None:
    with pytest.raises(ClientError) as failed:
        json_server.client("iam").get_user(UserName="nobody-by-that-name")
    entry = access_entry(json_server, failed.value.response["ResponseMetadata"]["RequestId"])
    assert (entry["operation"], entry["status"]) == ("GetUser", 404)


def test_requests_refused_before_authentication_are_logged(json_server: RunningServer) -> None:
    bad = json_server.client("sts", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(ClientError) as failed:
        bad.get_caller_identity()
    entry = access_entry(json_server, failed.value.response["ResponseMetadata"]["RequestId"])
    assert entry["status"] == 403 and entry["principal"] is None


def test_no_secret_of_the_run_is_logged(json_server: RunningServer) -> None:
    secrets: list[str] = [json_server.admin_keys()[1]]
    iam, sts = json_server.client("iam"), json_server.client("sts")
    name = f"secretive-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    secrets.append(key["SecretAccessKey"])
    password = f"Pw-{uuid.uuid4().hex}!"
    iam.create_login_profile(UserName=name, Password=password)
    secrets.append(password)
    session = sts.get_session_token()["Credentials"]
    secrets += [session["SecretAccessKey"], session["SessionToken"]]
    as_session = json_server.client(
        "s3", session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"], signature_version="s3v4"
    )
    bucket = f"logs-{uuid.uuid4().hex[:8]}"
    as_session.create_bucket(Bucket=bucket)
    as_session.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    url = as_session.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"})
    with urllib.request.urlopen(url, timeout=10) as reply:  # signature and token in the query string
        assert reply.read() == b"hello"
    secrets.append(url.split("X-Amz-Signature=")[1].split("&")[0])
    created = json_server.client("iot").create_keys_and_certificate(setAsActive=True)
    private_key = created["keyPair"]["PrivateKey"]
    secrets += [line for line in private_key.splitlines() if "-----" not in line]

    text = log_path(json_server).read_text()
    log_entries(json_server)  # still all JSON
    for secret in secrets:
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text  # nor in JSON's escaped form
    assert "GetObject" in text and "CreateKeysAndCertificate" in text  # the requests were logged


def test_credentials_provider_exchanges_have_access_lines(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The mTLS listener logs each exchange like an API request: its id, status, duration, and the calling
    certificate as the principal (never the credentials it handed out)."""
    from tests.e2e.mtls import device_curl, make_device, start_provider

    provider_run = start_provider(tmp_path_factory, "sqlite", "--log-format", "json", "--log-level", "info")
    provider = next(provider_run)
    try:
        device = make_device(provider, tmp_path_factory.mktemp("device"))
        issued = device_curl(provider, device, thing=device.thing)
        refused = device_curl(provider, device, alias="no-such-alias")
        assert (issued.status, refused.status) == (200, 403)
        server = provider.server
        for result, status in ((issued, 200), (refused, 403)):
            entry = access_entry(server, result.headers["x-amzn-requestid"])
            assert entry["service"] == "credentials-iot"
            assert entry["operation"] == "AssumeRoleWithCertificate"
            assert entry["status"] == status
            assert entry["principal"] == f"cert/{device.certificate_id}"
            assert entry["method"] == "GET" and entry["path"].startswith("/role-aliases/")
            assert entry["duration_ms"] >= 0
        secret = issued.json()["credentials"]["secretAccessKey"]
        assert secret not in log_path(server).read_text()
    finally:
        next(provider_run, None)
