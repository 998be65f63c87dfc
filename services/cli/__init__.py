"""The ``newsflow`` command line: one entry point for the stack, the workers and the tools.

Each command is a module of this package with a ``register(sub)`` that adds its
subparser and sets ``run``, the function that carries the command out. Heavy modules
(spaCy, FastAPI) are imported by ``run``, so ``newsflow search`` starts in a fraction
of a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services import webhooks_cli
from services.cli import (
    dlq,
    docs,
    enrich,
    env,
    ingest,
    search,
    stats,
    subscribe,
    subscriptions,
    up,
    worker,
)
from services.cli import eval as eval_
from services.cli._common import WORKERS

__all__ = ["WORKERS", "build_parser", "main"]

# In the order ``newsflow --help`` lists them.
COMMANDS = (
    up,
    env,
    worker,
    ingest,
    enrich,
    search,
    subscribe,
    subscriptions,
    webhooks_cli,
    dlq,
    eval_,
    stats,
    docs,
)


def build_parser() -> argparse.ArgumentParser:
    """The parser for every ``newsflow`` subcommand (names are a stable interface)."""
    parser = argparse.ArgumentParser(
        prog="newsflow",
        description="Streaming news enrichment: Redis Streams in, entities and IPTC topics out.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``newsflow`` command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    try:
        code: int = args.run(args)
        return code
    except ValidationError as exc:
        # Bad configuration: name the variable and stop before doing anything.
        print(f"newsflow: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
