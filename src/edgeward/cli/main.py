"""`edgeward ...`: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from edgeward import __version__
from edgeward.cli import backup, ca, decisions, deeplens, kek, migrate, models, move, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeward", description="Self-hosted AWS-compatible device identity service.")
    parser.add_argument("--version", action="version", version=f"edgeward {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(commands)
    decisions.add_parser(commands)
    ca.add_parser(commands)
    models.add_parser(commands)
    deeplens.add_parser(commands)
    backup.add_parsers(commands)
    migrate.add_parser(commands)
    kek.add_parser(commands)
    move.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
