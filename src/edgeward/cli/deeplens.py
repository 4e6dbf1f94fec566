"""`edgeward deeplens register|download|deregister|describe|list`: DeepLens-style registration from a shell.

The command acts on the installation's database directly (like `edgeward decisions`), as the account root by
default or as an IAM user (`--as-user`), through the same operations and IAM authorization as the console.
It needs the key-encryption key (`<data-dir>/kek`, `--kek-file`, or EDGEWARD_KEK), since it seals and unseals
device keys. A bundle names the installation's endpoints: give --public-host/--port/--mtls-port/--tls as
`edgeward serve` was given them when they are not the defaults.

`register` registers and downloads in one transaction, writing the zip before the commit (and removing it if
the commit fails), so the private key is never left behind on the server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from edgeward.cli.where import add_database_options, database_url
from edgeward.core import arn as arns
from edgeward.core import ids
from edgeward.core.errors import ServiceError
from edgeward.core.principal import Principal, PrincipalKind
from edgeward.server.config import DEFAULT_MTLS_PORT, DEFAULT_PORT, DEFAULT_REGION, Config
from edgeward.services import decisions
from edgeward.services.deeplens.bundle import API_ENDPOINT_KEY
from edgeward.services.deeplens.roles import ROLE_SPECS
from edgeward.services.invoke import invoke
from edgeward.services.iot.authority import configure_key_pool
from edgeward.storage.database import Database
from edgeward.storage.repos import accounts, users
from edgeward.storage.secrets import SecretBox

SERVICE = "deeplens"


class CliError(Exception):
    """Something the operator must fix; the message says what."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("deeplens", help="register DeepLens-style devices (certificate bundles)")
    actions = parser.add_subparsers(dest="deeplens_command", required=True)
    register = actions.add_parser("register", help="register a device and write its certificate bundle (.zip)")
    register.add_argument("name", help="device name: up to 100 letters, digits and dashes")
    register.add_argument("--out", type=Path, required=True, help="where to write the bundle (.zip)")
    register.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="KIND=NAME",
        help=f"a role other than the wizard's default; KIND is one of {', '.join(s.kind for s in ROLE_SPECS)}",
    )
    download = actions.add_parser("download", help="the one download of a device registered elsewhere")
    download.add_argument("name")
    download.add_argument("--out", type=Path, required=True)
    deregister = actions.add_parser("deregister", help="revoke the certificate and remove the registration")
    deregister.add_argument("name")
    describe = actions.add_parser("describe", help="one device with its statuses (JSON)")
    describe.add_argument("name")
    listing = actions.add_parser("list", help="registered devices and their statuses")
    listing.add_argument("--json", action="store_true", help="JSON, every field")
    for action in (register, download, deregister, describe, listing):
        _common(action)
    parser.set_defaults(run=run)


def _common(parser: argparse.ArgumentParser) -> None:
    add_database_options(parser)
    parser.add_argument(
        "--kek-file", type=Path, help="the key-encryption key file (default: <data-dir>/kek; EDGEWARD_KEK overrides)"
    )
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--as-user", help="act as this IAM user (default: the account root)")
    parser.add_argument("--public-host", action="append", default=[], help="as given to `edgeward serve`")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the API port of `edgeward serve`")
    parser.add_argument("--mtls-port", type=int, default=DEFAULT_MTLS_PORT, help="its credentials port")
    parser.add_argument("--tls", action="store_true", help="the API port serves HTTPS (`edgeward serve --tls`)")


@dataclass
class Session:
    db: Database
    box: SecretBox
    region: str
    endpoints: dict[str, str]
    as_user: str | None

    def call(self, conn: Connection, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return invoke(
            conn,
            self.principal(conn),
            SERVICE,
            operation,
            params,
            region=self.region,
            secrets=self.box,
            request_id=ids.request_id(),
            endpoints=self.endpoints,
        )

    def principal(self, conn: Connection) -> Principal:
        account = accounts.get_account(conn)
        if account is None:
            raise CliError("the database has no account yet: run `edgeward serve` once")
        if self.as_user is None:
            root = account.account_id
            return Principal(PrincipalKind.ROOT, root, arns.root(root), root, "root", "")
        user = users.get_user(conn, account.account_id, self.as_user)
        if user is None:
            raise CliError(f"no IAM user {self.as_user}")
        return Principal(
            PrincipalKind.USER,
            user.account,
            user.arn,
            user.unique_id,
            user.name,
            "",
            entity_id=user.id,
            tags=dict(user.tags),
            boundary_arn=user.permissions_boundary,
        )


def run(args: argparse.Namespace) -> int:
    try:
        with _session(args) as session:
            return _COMMANDS[args.deeplens_command](session, args)
    except ServiceError as exc:
        print(f"edgeward: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (CliError, LookupError, OSError) as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"edgeward: database error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


@contextlib.contextmanager
def _session(args: argparse.Namespace) -> Iterator[Session]:
    data_dir = args.data_dir or Path(os.environ.get("EDGEWARD_DATA_DIR", "edgeward-data"))
    box = SecretBox.from_env()
    if box is None:
        kek = args.kek_file or data_dir / "kek"
        if not kek.is_file():
            raise CliError(f"no key-encryption key at {kek}: give --kek-file, --data-dir or EDGEWARD_KEK")
        box = SecretBox.load_or_create(kek)
    config = Config(port=args.port, mtls_port=args.mtls_port, public_hosts=tuple(args.public_host))
    db = Database(database_url(args))
    configure_key_pool(0)  # one key for this command: make it now rather than fill a pool
    flusher = decisions.start_flusher(db)  # the decisions reach the log like the server's
    try:
        endpoints = config.iot_endpoints()
        scheme = "https" if args.tls else "http"
        endpoints[API_ENDPOINT_KEY] = f"{scheme}://{config.public_host}:{args.port}"
        yield Session(db, box, args.region, endpoints, args.as_user)
    finally:
        if flusher is not None:
            decisions.stop_flusher()
        db.dispose()


def _register(session: Session, args: argparse.Namespace) -> int:
    roles = dict(_role_choice(text) for text in args.role)
    with _writing(args.out) as write, session.db.transaction() as conn:
        described = session.call(conn, "RegisterDevice", {"DeviceName": args.name, "Roles": roles})
        write(session.call(conn, "DownloadCertificateBundle", {"DeviceName": args.name})["Bundle"])
    print(f"registered {args.name}: certificate {described['CertificateId']}; bundle written to {args.out}")
    print(f"on the device: edgeward-agent setup --certificates {args.out.name}")
    return 0


def _download(session: Session, args: argparse.Namespace) -> int:
    with _writing(args.out) as write, session.db.transaction() as conn:
        write(session.call(conn, "DownloadCertificateBundle", {"DeviceName": args.name})["Bundle"])
    print(f"bundle of {args.name} written to {args.out} (the server no longer holds its private key)")
    return 0


def _deregister(session: Session, args: argparse.Namespace) -> int:
    with session.db.transaction() as conn:
        done = session.call(conn, "DeregisterDevice", {"DeviceName": args.name})
    print(f"deregistered {args.name}: certificate {done['CertificateId']} revoked")
    return 0


def _describe(session: Session, args: argparse.Namespace) -> int:
    with session.db.read() as conn:
        found = session.call(conn, "DescribeDevice", {"DeviceName": args.name})
    print(json.dumps(found["Device"], indent=2, default=_json_default))
    return 0


def _list(session: Session, args: argparse.Namespace) -> int:
    devices: list[dict[str, Any]] = []
    token: str | None = None
    with session.db.read() as conn:
        while True:
            page = session.call(conn, "ListDevices", {"NextToken": token} if token else {})
            devices += page["Devices"]
            token = page.get("NextToken")
            if not token:
                break
    if args.json:
        print(json.dumps(devices, indent=2, default=_json_default))
        return 0
    rows = [("DEVICE", "REGISTRATION", "STATUS", "CERTIFICATE")]
    rows += [(d["DeviceName"], _registration(d), d["DeviceStatus"], d["CertificateId"][:12]) for d in devices]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]))
    return 0


def _registration(device: dict[str, Any]) -> str:
    reason = device.get("RegistrationStatusReason")
    return f"{device['RegistrationStatus']} ({reason})" if reason else str(device["RegistrationStatus"])


def _role_choice(text: str) -> tuple[str, str]:
    kind, sep, name = text.partition("=")
    if not sep or not kind or not name:
        raise CliError(f"--role wants KIND=NAME, not {text!r}")
    return kind, name


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[Callable[[bytes], None]]:
    """A writer of the bundle file, used inside the transaction: the file is removed again if the transaction
    does not commit, so no key exists that the server does not know was downloaded."""
    if path.exists():
        raise CliError(f"{path} exists already: the bundle is written once, to a new file")
    written = False

    def write(data: bytes) -> None:
        nonlocal written
        # A new file, 0600 from the start: it holds the device's private key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        written = True
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    try:
        yield write
    except BaseException:
        if written:
            path.unlink(missing_ok=True)
        raise


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


_COMMANDS = {
    "register": _register,
    "download": _download,
    "deregister": _deregister,
    "describe": _describe,
    "list": _list,
}
