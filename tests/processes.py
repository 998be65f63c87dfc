"""newsflow commands and workers as real processes, for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
NEWSFLOW = [sys.executable, "-m", "services.cli"]
SERVICES = ("sink", "enrich", "ingest")


def newsflow_env(**extra: str) -> dict[str, str]:
    """This environment without any newsflow setting, plus ``extra`` and text logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(extra, NEWSFLOW_LOG_FORMAT="text", PYTHONUNBUFFERED="1")
    return env


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_workers(
    env: dict[str, str], log_dir: Path, services: Sequence[str] = SERVICES
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """``newsflow worker S`` for each service, logging to ``log_dir/S.log``.

    On exit each gets SIGTERM, and every one must stop cleanly (exit code 0); the
    assertion shows the end of the logs of those that did not.
    """
    logs = {s: (log_dir / f"{s}.log").open("wb") for s in services}
    procs = {
        s: subprocess.Popen(
            [*NEWSFLOW, "worker", s], env=env, cwd=REPO, stdout=logs[s], stderr=subprocess.STDOUT
        )
        for s in services
    }
    try:
        yield procs
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {s: p.wait(30) for s, p in procs.items()}
        for f in logs.values():
            f.close()
    assert codes == dict.fromkeys(services, 0), {
        s: (log_dir / f"{s}.log").read_text(errors="replace")[-3000:] for s in codes
    }
