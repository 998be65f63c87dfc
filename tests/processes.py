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

from services.embedded import free_port

REPO = Path(__file__).resolve().parents[1]
NEWSFLOW = [sys.executable, "-m", "services.cli"]
SERVICES = ("sink", "enrich", "ingest")


def newsflow_env(**extra: str) -> dict[str, str]:
    """This environment without any newsflow setting, plus ``extra`` and text logs."""
    # NEWSFLOW_STATE_DIR stays: the run's own, so no test touches the user's record.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEWSFLOW_") or k == "NEWSFLOW_STATE_DIR"
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(extra, NEWSFLOW_LOG_FORMAT="text", PYTHONUNBUFFERED="1")
    return env


def stack_env(redis_url: str, prefix: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a three-worker stack on its own free ports, SQLite in
    ``data_dir``, reading every 20 ms; ``extra`` adds or overrides settings."""
    settings = {
        "REDIS_URL": redis_url,
        "NEWSFLOW_PREFIX": prefix,
        "DATABASE_URL": f"sqlite:///{data_dir / 'newsflow.db'}",
        "NEWSFLOW_DATA_DIR": str(data_dir),
        "NEWSFLOW_API_PORT": str(free_port()),
        "NEWSFLOW_SINK_HTTP_PORT": str(free_port()),
        "NEWSFLOW_ENRICH_HTTP_PORT": str(free_port()),
        "NEWSFLOW_POLLING_INTERVAL_MS": "20",
    }
    return newsflow_env(**{**settings, **extra})


def api_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['NEWSFLOW_API_PORT']}"


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
