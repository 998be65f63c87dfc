"""What more than one command module needs: the subparser type and the worker names."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

WORKERS = ("ingest", "enrich", "sink", "deliver")
