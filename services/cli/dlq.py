"""``newsflow dlq list|replay|purge``: inspect, replay or purge dead letters."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    dlq = sub.add_parser("dlq", help="inspect, replay or purge dead letters")
    dlq.add_argument("action", choices=("list", "replay", "purge"))
    dlq.add_argument("--stream", help="only entries whose source stream is this")
    dlq.add_argument("--error", help="only entries whose error class or message contains this")
    dlq.add_argument("--limit", type=int, default=100, help="at most this many (list)")
    dlq.add_argument("--json", action="store_true", help="NDJSON output (list)")
    dlq.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_dlq

    return cmd_dlq(args)
