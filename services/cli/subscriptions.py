"""``newsflow subscriptions add|list|rm``: saved filter subscriptions, in Redis directly."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    subs = sub.add_parser("subscriptions", help="add, list or remove saved filter subscriptions")
    subs_sub = subs.add_subparsers(dest="action", required=True, metavar="ACTION")
    subs_add = subs_sub.add_parser("add", help="save a filter (replaces one of the same name)")
    subs_add.add_argument("name", help="lower-case letters, digits, '-' and '_'")
    subs_add.add_argument(
        "--topic", action="append", default=[], help="topic slug or QCode (repeatable; any)"
    )
    subs_add.add_argument(
        "--all-topics", action="store_true", help="require every --topic, not any"
    )
    subs_add.add_argument(
        "--entity",
        action="append",
        default=[],
        help="entity name or a name the article used (repeatable; any)",
    )
    subs_add.add_argument(
        "--keyword", action="append", default=[], help="keyword or title word (repeatable; any)"
    )
    subs_add.add_argument("--language", help="language code, e.g. en")
    subs_add.add_argument("--source", help="source name")
    subs_list = subs_sub.add_parser("list", help="show the saved filters")
    subs_list.add_argument("--json", action="store_true", help="one filter per line (NDJSON)")
    subs_rm = subs_sub.add_parser("rm", help="delete a saved filter (its stream is kept)")
    subs_rm.add_argument("name")
    subs.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_subscriptions

    return cmd_subscriptions(args)
