"""``newsflow up``: the whole stack (embedded Redis unless REDIS_URL)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    up = sub.add_parser("up", help="run the whole stack (embedded Redis unless REDIS_URL)")
    up.add_argument("--data-dir", type=Path, help="data directory (default ./data)")
    up.add_argument("--api-port", type=int, help="HTTP API port (default 8000)")
    up.add_argument("--enrich-workers", type=int, default=1, help="enrich processes (default 1)")
    up.add_argument(
        "--redis-port", type=int, help="port of the embedded Redis (default: a free one)"
    )
    up.add_argument(
        "--seed",
        type=Path,
        action="append",
        default=[],
        help="ingest these files or folders once the stack is up (repeatable)",
    )
    up.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.up import run_up

    return run_up(args)
