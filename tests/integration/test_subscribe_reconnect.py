"""Subscribers survive a Redis restart: the Python client and ``newsflow subscribe``
reconnect with backoff and go on where they stopped, without missing or repeating."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services.embedded import RedisServer, start_redis
from shared.client import subscribe
from shared.codec import to_fields
from shared.streams import StreamNames
from tests.integration.test_subscribe import article
from tests.processes import NEWSFLOW, newsflow_env, wait_until

pytestmark = pytest.mark.integration
PREFIX = "rc:"
WAIT = 20.0  # a bounded wait, never a timing assertion


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of this test's own, with AOF, that the test restarts."""
    server = start_redis(tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


def _restart(server: RedisServer, down_s: float = 3.0) -> RedisServer:
    """Stop the server for ``down_s`` (longer than redis-py's own retries), then
    start it again on the same port and AOF."""
    server.stop()
    time.sleep(down_s)
    return start_redis(server.data_dir, port=server.port)


def _add(url: str, n: int) -> None:
    with redis.Redis.from_url(url) as client:
        client.xadd(StreamNames(PREFIX).topic("politics-and-government"), to_fields(article(n)))


@pytest.mark.parametrize("group", [None, "alerts"])
async def test_client_reconnects_after_a_redis_restart(
    own_redis: RedisServer, group: str | None
) -> None:
    server = own_redis
    received: list[str] = []
    async with subscribe(
        topic="politics-and-government",
        group=group,
        consumer="c1",
        redis_url=server.url,
        prefix=PREFIX,
        block_ms=200,
    ) as articles:
        iterator = aiter(articles)
        _add(server.url, 1)
        received.append((await asyncio.wait_for(anext(iterator), WAIT)).id)
        # A read is waiting when the server goes away for longer than redis-py retries.
        waiting = asyncio.create_task(anext(iterator))
        await asyncio.sleep(0.3)
        server = await asyncio.to_thread(_restart, server)
        _add(server.url, 2)
        _add(server.url, 3)
        received.append((await asyncio.wait_for(waiting, WAIT)).id)
        received.append((await asyncio.wait_for(anext(iterator), WAIT)).id)
    server.stop()
    assert received == ["a1", "a2", "a3"]


def test_cli_subscribe_keeps_running_across_a_redis_restart(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    server = own_redis
    env = newsflow_env(REDIS_URL=server.url, NEWSFLOW_PREFIX=PREFIX)
    out = tmp_path / "out.jsonl"
    with out.open("wb") as sink, (tmp_path / "err.log").open("wb") as err:
        follower = subprocess.Popen(
            [
                *NEWSFLOW,
                "subscribe",
                "--topic",
                "politics-and-government",
                "--json",
                "--count",
                "2",
            ],
            env=env,
            stdout=sink,
            stderr=err,
        )
        try:
            with redis.Redis.from_url(server.url) as client:
                wait_until(
                    lambda: (
                        client.client_list(_type="normal")
                        and any(c.get("cmd") == "xread" for c in client.client_list())
                    ),
                    WAIT,
                    "the subscriber to read",
                )
            _add(server.url, 1)
            wait_until(lambda: out.read_bytes().count(b"\n") >= 1, WAIT, "the first article")
            server = _restart(server)
            _add(server.url, 2)
            code = follower.wait(WAIT * 2)
        finally:
            if follower.poll() is None:
                follower.kill()
            server.stop()
    assert code == 0, (tmp_path / "err.log").read_text()
    ids = [line.split(b'"id":"')[1].split(b'"')[0] for line in out.read_bytes().splitlines()]
    assert ids == [b"a1", b"a2"]
    assert "reconnecting" in (tmp_path / "err.log").read_text()
