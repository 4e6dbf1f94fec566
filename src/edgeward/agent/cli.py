"""`edgeward-agent ...`: the device side's command line."""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from edgeward.agent.api import ApiClient, ApiError
from edgeward.agent.config import DEFAULT_PATH, AgentConfig, ConfigError
from edgeward.agent.container import ContainerCredentialsServer
from edgeward.agent.credentials import CredentialsFormatError
from edgeward.agent.edge import EdgeAgent, EdgeSettings
from edgeward.agent.enrol import enrol
from edgeward.agent.fetch import CredentialsClient, ProviderError, ProviderUnavailable
from edgeward.agent.refresh import CredentialSource, Refresher


class RunFailed(Exception):
    """`run --once` could not complete its cycle."""


AgentFailure = (RunFailed, ConfigError, ProviderError, ProviderUnavailable, CredentialsFormatError, ApiError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeward-agent", description="edgeward's device agent.")
    commands = parser.add_subparsers(dest="command", required=True)

    configure = commands.add_parser("configure", help="write the agent configuration")
    _config_option(configure)
    configure.add_argument("--certificate", required=True, type=Path, help="device certificate (PEM)")
    configure.add_argument("--private-key", required=True, type=Path, help="device private key (PEM)")
    configure.add_argument("--ca", required=True, type=Path, help="edgeward's CA bundle (ca.pem)")
    configure.add_argument(
        "--endpoint", required=True, help="credentials endpoint (DescribeEndpoint iot:CredentialProvider)"
    )
    configure.add_argument("--role-alias", required=True)
    configure.add_argument("--thing-name", help="sent as x-amzn-iot-thingname")
    configure.set_defaults(run=_configure)

    credentials = commands.add_parser("credentials", help="print credentials in the credential_process format")
    _config_option(credentials)
    credentials.set_defaults(run=_credentials)

    serve = commands.add_parser("serve-credentials", help="serve a local container-credentials endpoint")
    _config_option(serve)
    serve.add_argument("--port", type=int, default=0, help="loopback port (default: any free one)")
    serve.add_argument("--token-file", type=Path, help="file holding the Authorization token (default: a new one)")
    serve.set_defaults(run=_serve)

    run = commands.add_parser("run", help="heartbeats, model deployments and data capture (Edge Manager)")
    _config_option(run)
    run.add_argument("--once", action="store_true", help="one cycle, then exit")
    run.set_defaults(run=_run)

    enrol_cmd = commands.add_parser("enrol", help="make a private key and a CSR on this device")
    enrol_cmd.add_argument("--key-out", required=True, type=Path)
    enrol_cmd.add_argument("--csr-out", required=True, type=Path)
    enrol_cmd.add_argument("--common-name", required=True)
    enrol_cmd.add_argument("--key-type", choices=("ec", "rsa"), default="ec")
    enrol_cmd.set_defaults(run=_enrol)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_PATH, help=f"configuration file (default {DEFAULT_PATH})"
    )


def _configure(args: argparse.Namespace) -> int:
    config = AgentConfig(
        certificate=args.certificate.resolve(),
        private_key=args.private_key.resolve(),
        ca=args.ca.resolve(),
        endpoint=args.endpoint,
        role_alias=args.role_alias,
        thing_name=args.thing_name,
    )
    config.save(args.config)
    print(f"wrote {args.config}; add to ~/.aws/config:")
    print(f"  credential_process = edgeward-agent credentials --config {args.config}")
    return 0


def _source(config: AgentConfig) -> CredentialSource:
    return CredentialSource(CredentialsClient(config).fetch, config.cache_path)


def _credentials(args: argparse.Namespace) -> int:
    credentials = _source(AgentConfig.load(args.config)).current()
    print(json.dumps(credentials.to_process()))
    return 0


def _serve(args: argparse.Namespace) -> int:
    config = AgentConfig.load(args.config)
    token = args.token_file.read_text().strip() if args.token_file else secrets.token_urlsafe(32)
    source = _source(config)
    refresher = Refresher(source)
    server = ContainerCredentialsServer(source, token, port=args.port)
    refresher.start()
    print(f"export AWS_CONTAINER_CREDENTIALS_FULL_URI={server.uri}", flush=True)
    if not args.token_file:
        print(f"export AWS_CONTAINER_AUTHORIZATION_TOKEN={token}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        refresher.stop()
        server.server_close()
    return 0


def _run(args: argparse.Namespace) -> int:
    config = AgentConfig.load(args.config)
    agent = edge_agent(config)
    while True:
        try:
            print(json.dumps(agent.cycle()), flush=True)
        except (ApiError, ProviderError, ProviderUnavailable, OSError) as exc:
            if args.once:
                raise RunFailed(str(exc)) from None
            logging.getLogger("edgeward.agent").warning("cycle failed: %s", exc)
        if args.once:
            return 0
        time.sleep(config.heartbeat_seconds)


def edge_agent(config: AgentConfig) -> EdgeAgent:
    missing = [name for name in ("api_endpoint", "device_name", "device_fleet_name") if not getattr(config, name)]
    if missing:
        raise ConfigError(f"`run` needs {', '.join(missing)} in the agent configuration")
    assert config.api_endpoint and config.device_name and config.device_fleet_name
    source = _source(config)
    api = ApiClient(config.api_endpoint, config.region, source.current, ca=config.ca)
    settings = EdgeSettings(
        device_name=config.device_name,
        device_fleet_name=config.device_fleet_name,
        models_dir=config.models_dir or config.certificate.parent / "models",
        capture_dir=config.capture_dir,
        output_location=config.output_location,
    )
    return EdgeAgent(api, settings)


def _enrol(args: argparse.Namespace) -> int:
    enrol(args.key_out, args.csr_out, args.common_name, args.key_type)
    print(f"private key: {args.key_out} (never leaves this device); CSR: {args.csr_out}")
    print(
        f"next: aws iot create-certificate-from-csr --certificate-signing-request file://{args.csr_out} --set-as-active"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="edgeward-agent: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except AgentFailure as exc:
        print(f"edgeward-agent: {exc}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
