"""Redis comes back empty: the ingest service notices and says how much was lost.

A Redis without persistence restarts with nothing: the articles accepted (202) and
not yet stored are gone, and before the generation marker nothing told anyone.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis

from services.embedded import start_redis
from tests.hostile.conftest import prose
from tests.processes import NEWSFLOW, REPO, api_url, running_workers, stack_env, wait_until

pytestmark = pytest.mark.e2e

ACCEPTED = 30


def _metric(api: str, name: str) -> float | None:
    try:
        text = httpx.get(f"{api}/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def _post(api: str, lines: bytes) -> list[str]:
    response = httpx.post(
        f"{api}/v1/articles/batch",
        content=lines,
        headers={"content-type": "application/x-ndjson"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


def _incidents(url: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(url)
    try:
        return [orjson.loads(fields[b"json"]) for _, fields in client.xrevrange("loss:incidents")]
    finally:
        client.close()


def test_lost_redis_data_is_reported_with_the_lost_count(tmp_path: Path) -> None:
    server = start_redis(tmp_path / "redis", appendonly=False)
    port = server.port
    # The default check interval: the loss must be recorded whichever notices it
    # first, the periodic check or the inbox reader finding its group gone.
    env = stack_env(server.url, "loss:", tmp_path / "data")
    api = api_url(env)
    lines = b"\n".join(
        orjson.dumps({"title": f"Story {n}", "body": prose(300) + f" #{n}"})
        for n in range(ACCEPTED)
    )
    try:
        # Only the ingest service runs: every accepted article waits in articles:raw.
        (tmp_path / "first").mkdir()
        with running_workers(env, tmp_path / "first", services=("ingest",)) as procs:
            wait_until(lambda: _metric(api, "newsflow_redis_data_loss_total") == 0, 60, "the API")
            assert _post(api, lines) == ["accepted"] * ACCEPTED
            time.sleep(6)  # a periodic check sees the backlog

            server.process.kill()  # no persistence: it comes back empty
            server.process.wait(10)
            server = start_redis(tmp_path / "redis", port=port, appendonly=False)
            wait_until(lambda: _incidents(server.url), 30, "the loss to be recorded")
            # Its inbox group gone, the ingest service stops by itself, to be restarted
            # by newsflow up or compose (here: by hand, below).
            assert procs["ingest"].wait(60) == 0
        incidents = _incidents(server.url)
        assert len(incidents) == 1
        assert incidents[0]["kind"] == "redis-data-loss"
        assert incidents[0]["backlog_at_last_check"] == ACCEPTED
        assert incidents[0]["schema_version"] >= 1
        assert incidents[0]["previous_generation"] != incidents[0]["generation"]
        log = (tmp_path / "first" / "ingest.log").read_text()
        assert f"at least {ACCEPTED} articles are lost" in log

        stats = subprocess.run(
            [*NEWSFLOW, "stats", "--json"],
            env=env,
            cwd=REPO,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert stats.returncode == 0, stats.stderr
        shown = orjson.loads(stats.stdout)["incidents"]
        assert [i["backlog_at_last_check"] for i in shown] == [ACCEPTED]

        # A restarted ingest (as newsflow up or compose would) takes the same articles
        # again, since nothing remembers them as seen, and records no second loss.
        (tmp_path / "second").mkdir()
        with running_workers(env, tmp_path / "second", services=("ingest",)):
            wait_until(lambda: _metric(api, "newsflow_redis_data_loss_total") == 0, 60, "the API")
            assert _post(api, lines) == ["accepted"] * ACCEPTED
            time.sleep(6)
            assert _metric(api, "newsflow_redis_data_loss_total") == 0
        assert len(_incidents(server.url)) == 1
    finally:
        server.stop()
