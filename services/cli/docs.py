"""``newsflow docs``: write the AsyncAPI document of the streams (offline)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    docs = sub.add_parser("docs", help="write the AsyncAPI document of the streams (offline)")
    docs.add_argument(
        "--output", type=Path, help="where to write it ('-' for stdout; default docs/asyncapi.json)"
    )
    docs.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.docs import cmd_docs

    return cmd_docs(args)
