"""One stack per data directory, found from any folder: what a user sees when they
run ``newsflow up`` twice, or ``newsflow env`` / ``stats`` / the client elsewhere."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import redis

from services.embedded import free_port
from shared.stack import DataDirLock, StackRunningError, read_record, state_dir
from tests.processes import NEWSFLOW, http_ok, newsflow_env, wait_until

pytestmark = pytest.mark.e2e


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEWSFLOW, *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_second_up_is_refused_and_the_stack_is_found_from_anywhere(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    api_port, redis_port = free_port(), free_port()
    env = newsflow_env(NEWSFLOW_STATE_DIR=str(tmp_path / "state"))
    with (tmp_path / "up.log").open("wb") as log:
        up = subprocess.Popen(
            [*NEWSFLOW, "up", "--api-port", str(api_port), "--redis-port", str(redis_port)],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            api = f"http://127.0.0.1:{api_port}"
            wait_until(lambda: http_ok(f"{api}/readyz"), 90, "the API")
            assert redis.Redis(port=redis_port).ping()

            # A second stack on the same data dir: refused, naming the first one's pid.
            second = _run(["up", "--api-port", str(free_port())], project, env)
            assert second.returncode == 1
            assert f"pid {up.pid}" in second.stdout + second.stderr
            assert (project / "data" / "redis.url").exists()

            # From another folder: env, stats and ingest reach the running stack.
            printed = _run(["env"], elsewhere, env)
            assert printed.returncode == 0, printed.stderr
            assert f"export REDIS_URL=redis://127.0.0.1:{redis_port}/0" in printed.stdout
            assert "export NEWSFLOW_API_URL=" + api in printed.stdout
            assert str(project / "data" / "newsflow.db") in printed.stdout
            stats = _run(["stats", "--json"], elsewhere, env)
            assert stats.returncode == 0, stats.stderr
            article = elsewhere / "story.txt"
            article.write_text("Storm closes schools\nSchools in Leeds shut on Friday.\n")
            sent = _run(["ingest", str(article)], elsewhere, env)
            assert sent.returncode == 0, sent.stdout + sent.stderr
            assert httpx.get(f"{api}/healthz", timeout=5).status_code == 200
        finally:
            up.send_signal(signal.SIGINT)
            try:
                up.wait(90)
            except subprocess.TimeoutExpired:
                up.kill()
    log_text = (tmp_path / "up.log").read_text(errors="replace")
    assert up.returncode == 0, log_text[-2000:]
    # Stopped: the record is gone, the lock is free, env says so.
    assert not (tmp_path / "state" / "stack.json").exists()
    gone = _run(["env"], elsewhere, env)
    assert gone.returncode == 1
    assert "no running newsflow stack" in gone.stderr


def test_lock_names_the_holder(tmp_path: Path) -> None:
    first = DataDirLock(tmp_path / "data")
    first.acquire()
    try:
        with pytest.raises(StackRunningError, match=f"pid {os.getpid()}") as caught:
            DataDirLock(tmp_path / "data").acquire()
        assert caught.value.pid == os.getpid()
    finally:
        first.release()
    again = DataDirLock(tmp_path / "data")
    again.acquire()
    again.release()


def test_a_record_of_a_dead_process_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from shared.stack import StackRecord, write_record

    monkeypatch.setenv("NEWSFLOW_STATE_DIR", str(tmp_path / "state"))
    finished = subprocess.Popen(["true"])
    finished.wait()
    write_record(
        StackRecord(
            pid=finished.pid,
            data_dir=str(tmp_path),
            redis_url="redis://127.0.0.1:1/0",
            api_url="http://127.0.0.1:1",
            database_url="sqlite:///x.db",
        )
    )
    assert state_dir() == tmp_path / "state"
    assert (tmp_path / "state" / "stack.json").stat().st_mode & 0o077 == 0
    assert read_record() is None
