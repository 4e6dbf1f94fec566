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
    _run_options(configure)
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

    setup_cmd = commands.add_parser("setup", help="install a DeepLens-style certificate bundle (.zip, as downloaded)")
    _config_option(setup_cmd)
    setup_cmd.add_argument("--certificates", required=True, type=Path, help="the bundle .zip; do not unzip it")
    setup_cmd.add_argument("--dir", type=Path, help="where the certificate and key go (default: the config's folder)")
    setup_cmd.add_argument("--endpoint", help="credentials endpoint, if the device reaches it by another name")
    setup_cmd.add_argument("--api-endpoint", help="API endpoint URL, if the device reaches it by another name")
    setup_cmd.set_defaults(run=_setup)
    return parser


def _run_options(parser: argparse.ArgumentParser) -> None:
    """What `run` (Edge Manager) needs besides credentials."""
    group = parser.add_argument_group("edge manager (`run`)")
    group.add_argument("--api-endpoint", help="edgeward's API URL (sagemaker-edge and S3), e.g. https://host:port")
    group.add_argument("--region", default="us-east-1")
    group.add_argument("--device-name", help="the SageMaker Edge device name")
    group.add_argument("--device-fleet-name", help="the device's fleet")
    group.add_argument("--models-dir", type=Path, help="where deployed models go (default: next to the certificate)")
    group.add_argument("--capture-dir", type=Path, help="captured data files to upload (then removed)")
    group.add_argument("--output-location", help="the fleet's S3OutputLocation (s3://bucket/prefix)")
    group.add_argument("--heartbeat-seconds", type=float, default=20.0, help="seconds between cycles of `run`")


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
        api_endpoint=args.api_endpoint,
        region=args.region,
        device_name=args.device_name,
        device_fleet_name=args.device_fleet_name,
        models_dir=args.models_dir.resolve() if args.models_dir else None,
        capture_dir=args.capture_dir.resolve() if args.capture_dir else None,
        output_location=args.output_location,
        heartbeat_seconds=args.heartbeat_seconds,
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


def _setup(args: argparse.Namespace) -> int:
    from edgeward.agent.setup import install, read_bundle

    bundle = read_bundle(args.certificates)
    directory = args.dir or args.config.parent
    config = install(bundle, directory, args.config, endpoint=args.endpoint, api_endpoint=args.api_endpoint)
    print(f"installed device {bundle.config['deviceName']} (thing {config.thing_name}) in {directory}")
    print(f"wrote {args.config}")
    print(f"next: edgeward-agent run --config {args.config}")
    return 0


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
