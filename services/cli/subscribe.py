"""``newsflow subscribe``: follow a topic stream or a saved filter live."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    subscribe = sub.add_parser("subscribe", help="follow a topic stream live")
    what = subscribe.add_mutually_exclusive_group(required=True)
    what.add_argument("--topic", help="topic slug, e.g. politics")
    what.add_argument(
        "--subscription", help="a saved filter subscription's name ('newsflow subscriptions add')"
    )
    subscribe.add_argument(
        "--from-start",
        action="store_true",
        help="replay what the stream still holds before following",
    )
    subscribe.add_argument(
        "--since", help="start at this time (ISO 8601; no offset means UTC), e.g. 2026-11-27T09:00"
    )
    subscribe.add_argument(
        "--group",
        help="read in this consumer group and acknowledge: readers of a group share the "
        "articles, a restarted reader resumes where it stopped",
    )
    subscribe.add_argument(
        "--consumer",
        help="consumer name in --group (default: per host and process; give a stable one "
        "so a restart takes back its own unacknowledged articles)",
    )
    subscribe.add_argument("--json", action="store_true", help="NDJSON output")
    subscribe.add_argument("--count", type=int, help="exit after this many articles")
    subscribe.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_subscribe

    return cmd_subscribe(args)
