"""``newsflow worker ingest|enrich|sink|deliver``: one service alone, as docker compose runs it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from services.cli._common import WORKERS

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    worker = sub.add_parser("worker", help="run one service alone, as docker compose does")
    worker.add_argument("service", choices=WORKERS)
    worker.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.workers import run_worker

    return run_worker(args.service)
