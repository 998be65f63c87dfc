"""``newsflow ingest PATH...``: send article files to the running API."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    ingest = sub.add_parser("ingest", help="send article files to the running API")
    ingest.add_argument(
        "paths",
        type=Path,
        nargs="+",
        help=".txt (first line = title), .json, .jsonl, .ndjson, .html files or folders",
    )
    ingest.add_argument("--api", help="API base URL (default http://127.0.0.1:8000)")
    ingest.add_argument("--batch-size", type=int, default=200, help="articles per request")
    ingest.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_ingest

    return cmd_ingest(args)
