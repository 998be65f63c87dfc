"""``newsflow enrich``: offline, ArticleIn JSONL in, EnrichedArticle JSONL out, no Redis."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    enrich = sub.add_parser("enrich", help="offline: ArticleIn JSONL in, EnrichedArticle JSONL out")
    enrich.add_argument("--input", "-i", type=Path, help="input JSONL (default stdin)")
    enrich.add_argument("--output", "-o", type=Path, help="output JSONL (default stdout)")
    enrich.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_enrich

    return cmd_enrich(args)
