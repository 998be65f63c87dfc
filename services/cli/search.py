"""``newsflow search``: query stored articles (a table, or NDJSON with ``--json``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    search = sub.add_parser("search", help="query stored articles")
    search.add_argument("--topic", help="topic slug or QCode, e.g. politics or medtop:11000000")
    search.add_argument(
        "--entity", help="entity name or a name the article used, e.g. 'Donald Trump' or 'Trump'"
    )
    search.add_argument(
        "--q",
        help='full text: words (all of them), OR, -word or NOT word, "a phrase", prefix*; '
        "a word also finds its English inflections",
    )
    search.add_argument("--since", help="ISO date or datetime (UTC if no offset)")
    search.add_argument("--until", help="ISO date or datetime (UTC if no offset)")
    search.add_argument("--source", help="source name")
    search.add_argument("--language", help="language code, e.g. en")
    search.add_argument("--limit", type=int, default=20, help="at most this many (1-500)")
    search.add_argument(
        "--sort",
        choices=("time", "relevance"),
        default="time",
        help="newest first (default) or best --q match first",
    )
    search.add_argument("--json", action="store_true", help="one EnrichedArticle per line (NDJSON)")
    search.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_search

    return cmd_search(args)
