"""``newsflow up`` supervises through Redis restarts: nothing waits for a person.

Before, the display loop's Redis error handler stopped the whole stack ("stopped;
pipeline not drained") and the articles stayed in Redis until someone restarted it.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from services.embedded import start_redis
from tests.hostile.conftest import prose
from tests.processes import NEWSFLOW, REPO, stack_env, wait_until

pytestmark = pytest.mark.e2e

ARTICLES = 200
BATCH = 20


def _stored(database: Path) -> int:
    try:
        with sqlite3.connect(database) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_up_keeps_running_through_two_redis_restarts(tmp_path: Path) -> None:
    redis_dir = tmp_path / "redis"
    server = start_redis(redis_dir, appendonly=True)
    port = server.port
    data_dir = tmp_path / "data"
    env = stack_env(server.url, "up:", data_dir, NEWSFLOW_NER="off")
    database = data_dir / "newsflow.db"
    api = f"http://127.0.0.1:{env['NEWSFLOW_API_PORT']}"
    log = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen(
        [*NEWSFLOW, "up", "--api-port", env["NEWSFLOW_API_PORT"]],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sent = threading.Event()
    errors: list[str] = []

    def produce() -> None:
        # A producer that retries what was not accepted, as any client should.
        with httpx.Client(base_url=api, timeout=10) as client:
            for start in range(0, ARTICLES, BATCH):
                lines = b"\n".join(
                    orjson.dumps({"title": f"Article {n}", "body": prose(400) + f" #{n}"})
                    for n in range(start, start + BATCH)
                )
                deadline = time.monotonic() + 60
                while True:
                    try:
                        response = client.post(
                            "/v1/articles/batch",
                            content=lines,
                            headers={"content-type": "application/x-ndjson"},
                        )
                        if response.status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        errors.append(f"batch at {start} never accepted")
                        return
                    time.sleep(0.2)
                time.sleep(0.05)
        sent.set()

    try:
        wait_until(lambda: _ready(api), 120, "the stack to be ready")
        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        for _ in range(2):
            wait_until(lambda: _stored(database) > 0, 60, "some articles stored")
            server.process.terminate()  # a clean restart: the AOF is flushed and replayed
            assert server.process.wait(30) == 0
            time.sleep(2)
            assert up.poll() is None, "newsflow up stopped when Redis went away"
            server = start_redis(redis_dir, port=port, timeout=60)
            time.sleep(2)
        producer.join(180)
        assert sent.is_set() and not errors, errors
        wait_until(lambda: _stored(database) >= ARTICLES, 180, f"{ARTICLES} articles stored")
        assert up.poll() is None
        assert _stored(database) == ARTICLES
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
        code = up.wait(60)
        log.close()
        server.stop()
    assert code == 0, (tmp_path / "up.log").read_text(errors="replace")[-3000:]


def _ready(api: str) -> bool:
    try:
        return httpx.get(f"{api}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
