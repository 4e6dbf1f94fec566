"""`edgeward serve`: set up on first start, print how to connect, then serve every AWS API on one port."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from edgeward import __version__
from edgeward.server import logs
from edgeward.server.bootstrap import BootstrapError, prepare
from edgeward.server.ca import ca_path
from edgeward.server.config import CONFIG_ENV, DEFAULT_MTLS_PORT, DEFAULT_PORT, DEFAULT_REGION, Config
from edgeward.server.tls import ApiCertificate, api_certificate

log = logging.getLogger("edgeward")

DEFAULT_KEY_POOL_SIZE = 1000


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
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve the API port over HTTPS with a certificate from edgeward's CA (clients trust <data-dir>/ca.pem)",
    )
    parser.add_argument(
        "--key-pool-size",
        type=int,
        default=DEFAULT_KEY_POOL_SIZE,
        help=f"RSA keys each worker process keeps ready for CreateKeysAndCertificate "
        f"({DEFAULT_KEY_POOL_SIZE}; 0: none)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--log-format",
        default=os.environ.get("EDGEWARD_LOG_FORMAT", "text"),
        choices=logs.FORMATS,
        help="text for people (default), or json: one object per line with request ids, for log collectors",
    )
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
        tls=args.tls,
        key_pool_size=max(0, args.key_pool_size),
    )


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    logs.configure(args.log_format, config.log_level)
    try:
        prepared = prepare(config)
    except BootstrapError as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return 2
    prepared.db.dispose()
    certificate = None
    if config.tls:
        assert prepared.authorities is not None  # prepare() creates the CA
        certificate = api_certificate(config, prepared.authorities)
    if config.dev:
        log.warning(
            "DEV MODE: every request is accepted as the account root without checking credentials. "
            "Never expose this server."
        )
    if args.log_format == "json":  # every line of the output stays JSON
        log.info("%s", banner(config, prepared.account, prepared.created), extra={"account": prepared.account})
    else:
        print(banner(config, prepared.account, prepared.created), flush=True)
    return _serve(config, certificate, args.log_format)


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
        *([f"  export AWS_CA_BUNDLE={ca_path(config).resolve()}"] if config.tls else []),
        "  aws sts get-caller-identity",
    ]
    return "\n".join(lines)


def _credentials_endpoint(config: Config) -> str:
    if config.mtls_port <= 0:
        return "off"
    return f"https://{config.iot_endpoints()['iot:CredentialProvider']}/role-aliases/<alias>/credentials"


def _serve(config: Config, certificate: ApiCertificate | None, log_format: str = "text") -> int:
    import uvicorn

    from edgeward.server.metrics_dir import prepare_multiprocess

    remove_metrics_dir = prepare_multiprocess(config.workers)  # before any worker imports prometheus_client
    os.environ[CONFIG_ENV] = config.to_env()
    tls: dict[str, Any] = {}
    if certificate is not None:
        tls = {"ssl_certfile": str(certificate.certfile), "ssl_keyfile": str(certificate.keyfile)}
    try:
        uvicorn.run(
            "edgeward.cli.serve:create_worker_app",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers,
            loop="uvloop",
            http="edgeward.server.http_protocol:CoalescingHttpToolsProtocol",
            lifespan="on",
            access_log=False,
            log_level=config.log_level,
            log_config=logs.logging_config(log_format, config.log_level),
            server_header=False,
            date_header=True,
            **tls,
        )
    finally:
        remove_metrics_dir()
    return 0


def create_worker_app() -> Any:
    """uvicorn's factory, run once in every worker process as it starts: the worker's key pool starts
    filling now, so the first burst of CreateKeysAndCertificate finds keys ready.

    Every worker keeps the whole `--key-pool-size`, not a share: which worker a client's connection lands on
    is the kernel's choice, and a burst over a few connections can go mostly to one worker."""
    from edgeward.server.mtls_app import create_app
    from edgeward.services.iot import authority

    config = Config.from_env()
    authority.configure_key_pool(config.key_pool_size)
    if config.key_pool_size > 0:
        authority.key_pool()
    return create_app()
