"""``newsflow stats``: streams, groups, lag, pending, DLQ size, stored count, rates."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    stats = sub.add_parser("stats", help="streams, groups, lag, pending, DLQ size, stored count")
    stats.add_argument("--json", action="store_true", help="JSON output")
    stats.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="sample twice this far apart for added/read/acked per second (0: no rates)",
    )
    stats.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_stats

    return cmd_stats(args)
