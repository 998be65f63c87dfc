"""``newsflow env``: ``export REDIS_URL=...`` lines for the running stack."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.cli._common import Subparsers


def register(sub: Subparsers) -> None:
    env = sub.add_parser(
        "env", help="print 'export REDIS_URL=...' lines for the running stack (eval \"$(...)\")"
    )
    env.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools import cmd_env

    return cmd_env(args)
