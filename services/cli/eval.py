"""``newsflow eval ner|topics|places FILE``: measure enrichment on labelled data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    ev = sub.add_parser(
        "eval", help="measure enrichment on labelled data (NER: CoNLL-2003; topics: JSONL)"
    )
    ev.add_argument("task", choices=("ner", "topics", "places"))
    ev.add_argument(
        "file",
        type=Path,
        help="CoNLL-2003 file or JSONL with entity lists (ner); labelled JSONL (topics, places)",
    )
    ev.add_argument("--json", action="store_true", help="print the report as one JSON object")
    ev.add_argument("--limit", type=int, help="only the first N documents / articles")
    ev.add_argument(
        "--ablate",
        action="store_true",
        help="ner: F1 with each entity pass switched off in turn",
    )
    ev.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.eval import cmd_eval

    return cmd_eval(args)
