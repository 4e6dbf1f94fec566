"""`edgeward serve`: set up on first start, print how to connect, then serve every AWS API on one port."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from edgeward import __version__
from edgeward.server.bootstrap import BootstrapError, prepare
from edgeward.server.config import CONFIG_ENV, DEFAULT_MTLS_PORT, DEFAULT_PORT, DEFAULT_REGION, Config

log = logging.getLogger("edgeward")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the server (creates the data directory on first start)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("EDGEWARD_DATA_DIR", "edgeward-data")),
        help="where the database, keys and credentials file live (default: ./edgeward-data)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port for every AWS API ({DEFAULT_PORT})")
    parser.add_argument(
        "--mtls-port",
        type=int,
        default=None,
        help=f"port of the mutual-TLS credentials provider ({DEFAULT_MTLS_PORT}; 0: none)",
    )
    parser.add_argument("--account-id", help="12-digit account id for a new installation (default: random)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EDGEWARD_DATABASE_URL"),
        help="PostgreSQL URL (postgresql+psycopg://...) for several nodes; default: SQLite in --data-dir",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"default region (default: {DEFAULT_REGION})")
    parser.add_argument(
        "--public-host",
        action="append",
        default=[],
        help="host name clients use to reach this server (repeatable)",
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="DEVELOPMENT ONLY: accept any credentials as the account root; enables POST /_edgeward/reset",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(run=run)


def config_from(args: argparse.Namespace) -> Config:
    return Config(
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        mtls_port=DEFAULT_MTLS_PORT if args.mtls_port is None else args.mtls_port,
        mtls_required=args.mtls_port is not None,
        account_id=args.account_id,
        database_url=args.database_url,
        workers=max(1, args.workers),
        region=args.region,
        dev=args.dev,
        public_hosts=tuple(args.public_host),
        log_level=args.log_level,
    )


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        prepared = prepare(config)
    except BootstrapError as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return 2
    prepared.db.dispose()
    if config.dev:
        log.warning(
            "DEV MODE: every request is accepted as the account root without checking credentials. "
            "Never expose this server."
        )
    print(banner(config, prepared.account, prepared.created), flush=True)
    return _serve(config)


def banner(config: Config, account: str, created: bool) -> str:
    creds = config.credentials_path.resolve()
    lines = [
        f"edgeward {__version__} — account {account}" + (" (new installation)" if created else ""),
        f"  endpoint:           {config.endpoint_url}",
        f"  credentials (mTLS): {_credentials_endpoint(config)}",
        f"  admin credentials:  {creds}",
        f"  database:           {'PostgreSQL' if config.database_url else config.sqlite_path.resolve()}",
        "",
        "Point the AWS CLI and boto3 at it:",
        f"  export AWS_ENDPOINT_URL={config.endpoint_url}",
        f"  export AWS_SHARED_CREDENTIALS_FILE={creds}",
        f"  export AWS_DEFAULT_REGION={config.region}",
        "  aws sts get-caller-identity",
    ]
    return "\n".join(lines)


def _credentials_endpoint(config: Config) -> str:
    if config.mtls_port <= 0:
        return "off"
    return f"https://{config.iot_endpoints()['iot:CredentialProvider']}/role-aliases/<alias>/credentials"


def _serve(config: Config) -> int:
    import uvicorn

    os.environ[CONFIG_ENV] = config.to_env()
    uvicorn.run(
        "edgeward.server.mtls_app:create_app",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=config.log_level,
        server_header=False,
        date_header=True,
    )
    return 0
