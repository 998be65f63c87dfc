"""Where a running ``newsflow up`` can be found, and one stack per data directory.

``newsflow up`` takes an exclusive lock on ``<data dir>/newsflow.lock`` (``flock``,
released by the kernel when the process dies, however it dies) and writes its pid
into the file: a second ``up`` on the same directory is refused with that pid,
instead of starting a second Redis on the same AOF and a second sink on the same
SQLite file.

It also records itself (pid, data dir, Redis URL, API URL) in a per-user state
file, ``$NEWSFLOW_STATE_DIR/stack.json`` (default
``$XDG_STATE_HOME/newsflow``, else ``~/.local/state/newsflow``), so that the CLI
and the Python client find the stack from any folder: ``Settings.resolved_redis_url``
falls back to it when neither ``REDIS_URL`` nor ``<data dir>/redis.url`` names a
server. A record whose process is gone is ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

LOCK_FILE = "newsflow.lock"
STATE_FILE = "stack.json"


class StackRunningError(RuntimeError):
    """Another ``newsflow up`` holds the data directory."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        owner = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"another newsflow up ({owner}) is running with the data directory "
            f"{data_dir.resolve()}; stop it first, or give this one its own --data-dir"
        )
        self.pid = pid


def state_dir() -> Path:
    """The per-user folder of the state file."""
    explicit = os.environ.get("NEWSFLOW_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "newsflow"


@dataclass(frozen=True)
class StackRecord:
    """What ``newsflow up`` tells other commands about itself."""

    pid: int
    data_dir: str
    redis_url: str
    api_url: str
    database_url: str

    def alive(self) -> bool:
        return pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


class DataDirLock:
    """The exclusive lock of one data directory, held while the stack runs."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock (again: a no-op); raises ``StackRunningError`` naming the
        holder's pid."""
        if self._handle is not None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            text = handle.read().strip()
            handle.close()
            raise StackRunningError(self.data_dir, int(text) if text.isdigit() else None) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self._handle.truncate(0)
        self._handle.close()  # closing drops the flock
        self._handle = None


def write_record(record: StackRecord) -> None:
    """Record the running stack for commands started from other folders."""
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{STATE_FILE}.{os.getpid()}"
    # Owner-only: a PostgreSQL URL may carry a password.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(orjson.dumps(record.__dict__))
    temporary.replace(folder / STATE_FILE)


def read_record() -> StackRecord | None:
    """The recorded stack if its process still runs, else ``None``."""
    try:
        raw = orjson.loads((state_dir() / STATE_FILE).read_bytes())
        record = StackRecord(**raw)
    except (OSError, orjson.JSONDecodeError, TypeError):
        return None
    return record if record.alive() else None


def clear_record(pid: int) -> None:
    """Remove the record if it is this process's (a newer stack may have replaced it)."""
    path = state_dir() / STATE_FILE
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return
    if isinstance(raw, dict) and raw.get("pid") == pid:
        path.unlink(missing_ok=True)
