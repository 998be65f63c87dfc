"""Subscribers of topic streams against a real Redis: SSE, the Python client, the CLI.

Each one receives entries written to ``<prefix>topics:<slug>`` and resumes after a
disconnect without missing or repeating one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
import redis.asyncio as aioredis
import uvicorn

from services.embedded import free_port
from services.ingest.app import build_api
from shared.client import Subscription, subscribe
from shared.codec import to_fields
from shared.models import EnrichedArticle, Entity, Provenance, Topic
from shared.settings import Settings
from shared.streams import StreamNames

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
KEY = "s3cret"
WAIT = 10.0  # a bounded wait, never a timing assertion


def article(n: int) -> EnrichedArticle:
    now = datetime(2026, 11, 27, 9, tzinfo=UTC)
    return EnrichedArticle(
        id=f"a{n}",
        title=f"Article {n}",
        body=f"Body of article {n} about Iraq.",
        source="news.test",
        received_at=now,
        content_hash=f"h{n}",
        word_count=6,
        entities=[Entity(name="Iraq", type="GPE", salience=1.0, mention_count=1)],
        topics=[
            Topic(
                qcode="medtop:11000000",
                label="politics and government",
                slug="politics-and-government",
                relevance=0.9,
            )
        ],
        provenance=Provenance(
            newsflow_version="0.1.0", ner_model="m", taxonomy="t", enriched_at=now
        ),
    )


async def add(
    client: aioredis.Redis, prefix: str, n: int, topic: str = "politics-and-government"
) -> str:
    entry_id = await client.xadd(StreamNames(prefix).topic(topic), to_fields(article(n)))
    return str(entry_id.decode())


# --- SSE ---------------------------------------------------------------------------------


@asynccontextmanager
async def api_server(settings: Settings) -> AsyncIterator[str]:
    """The ingest API on a real port (httpx's ASGITransport buffers whole responses)."""
    port = free_port()
    app = build_api(settings, settings.redis_url or "")
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:  # noqa: ASYNC110 - uvicorn has no event for this
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def sse_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_key": KEY, "sse_keepalive_seconds": 0.2})


@pytest.fixture
async def api(sse_settings: Settings, redis_client: aioredis.Redis) -> AsyncIterator[str]:
    async with api_server(sse_settings) as base:
        yield base


class EventReader:
    """Parses a text/event-stream response into events and comments."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()
        self.comments: list[str] = []

    async def comment(self, text: str) -> None:
        async with asyncio.timeout(WAIT):
            while text not in self.comments:
                await self._line_until_blank()

    async def events(self, n: int) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        async with asyncio.timeout(WAIT):
            while len(out) < n:
                event = await self._line_until_blank()
                if "id" in event:
                    out.append(event)
        return out

    async def _line_until_blank(self) -> dict[str, str]:
        event: dict[str, str] = {}
        async for line in self.lines:
            if line == "":
                return event
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            event[name] = event[name] + "\n" + value if name in event else value
        raise AssertionError("the event stream ended")


def _url(base: str, slug: str = "politics-and-government") -> str:
    return f"{base}/v1/streams/topics/{slug}"


async def _blocked_xreads(client: aioredis.Redis) -> int:
    clients = await client.client_list()
    return sum(1 for c in clients if c.get("cmd") == "xread" and "b" in c.get("flags", ""))


async def test_sse_delivers_new_entries_and_resumes_with_last_event_id(
    api: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    old = await add(redis_client, prefix, 0)  # before the subscription: not delivered
    headers = {"authorization": f"Bearer {KEY}"}
    async with (
        httpx.AsyncClient(timeout=WAIT) as http,
        http.stream("GET", _url(api), headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        await reader.comment("connected")
        written = time.perf_counter()
        ids = [await add(redis_client, prefix, n) for n in (1, 2, 3)]
        first, second = await reader.events(2)
        latency = time.perf_counter() - written
        await reader.comment("keepalive")
    print(f"SSE delivery latency: {latency * 1000:.1f} ms")
    assert [first["id"], second["id"]] == ids[:2] and old not in ids
    assert first["event"] == "article"
    doc = EnrichedArticle.model_validate_json(first["data"])
    assert (doc.id, doc.title) == ("a1", "Article 1")

    # Disconnected: the server stops its blocking XREAD.
    async with asyncio.timeout(WAIT):
        while await _blocked_xreads(redis_client):  # noqa: ASYNC110 - polling Redis
            await asyncio.sleep(0.05)

    ids += [await add(redis_client, prefix, n) for n in (4, 5)]
    async with (
        httpx.AsyncClient(timeout=WAIT) as http,
        http.stream(
            "GET", _url(api), headers={**headers, "Last-Event-ID": second["id"]}
        ) as response,
    ):
        resumed = await EventReader(response).events(3)
    assert [e["id"] for e in resumed] == ids[2:]
    assert [EnrichedArticle.model_validate_json(e["data"]).id for e in resumed] == [
        "a3",
        "a4",
        "a5",
    ]


async def test_sse_from_start_and_query_last_event_id(
    api: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    ids = [await add(redis_client, prefix, n) for n in (1, 2, 3)]
    async with httpx.AsyncClient(timeout=WAIT, headers={"x-api-key": KEY}) as http:
        async with http.stream("GET", _url(api), params={"from": "start"}) as response:
            assert [e["id"] for e in await EventReader(response).events(3)] == ids
        params = {"last_event_id": ids[0]}
        async with http.stream("GET", _url(api), params=params) as response:
            assert [e["id"] for e in await EventReader(response).events(2)] == ids[1:]


async def test_sse_needs_the_api_key_and_a_valid_slug(api: str) -> None:
    async with httpx.AsyncClient(timeout=WAIT) as http:
        response = await http.get(_url(api))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        headers = {"authorization": f"Bearer {KEY}"}
        response = await http.get(_url(api, "Bad_Slug"), headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["field"] == "slug"
        response = await http.get(_url(api), headers={**headers, "Last-Event-ID": "nope"})
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["field"] == "last_event_id"


# --- Python client -----------------------------------------------------------------------


def _client_kwargs(settings: Settings) -> dict[str, Any]:
    return {"redis_url": settings.redis_url, "prefix": settings.prefix, "block_ms": 100}


async def test_client_without_group_gets_new_entries_and_resumes_from_last_id(
    settings: Settings, redis_client: aioredis.Redis, prefix: str
) -> None:
    await add(redis_client, prefix, 0)
    async with subscribe(topic="politics-and-government", **_client_kwargs(settings)) as articles:
        written = time.perf_counter()
        ids = [await add(redis_client, prefix, n) for n in (1, 2, 3)]
        async with asyncio.timeout(WAIT):
            got = [await anext(articles), await anext(articles)]
        latency = time.perf_counter() - written
        last = articles.last_id
    print(f"client delivery latency: {latency * 1000:.1f} ms")
    assert [a.id for a in got] == ["a1", "a2"] and last == ids[1]
    ids += [await add(redis_client, prefix, n) for n in (4, 5)]
    async with subscribe(
        topic="politics-and-government", last_id=last, **_client_kwargs(settings)
    ) as articles:
        async with asyncio.timeout(WAIT):
            rest = [await anext(articles) for _ in range(3)]
        assert articles.last_id == ids[-1]
    assert [a.id for a in rest] == ["a3", "a4", "a5"]


async def test_two_consumers_of_one_group_split_the_entries(
    settings: Settings, redis_client: aioredis.Redis, prefix: str
) -> None:
    one = Subscription(
        topic="politics-and-government",
        group="g",
        consumer="c1",
        count=1,
        **_client_kwargs(settings),
    )
    two = Subscription(
        topic="politics-and-government",
        group="g",
        consumer="c2",
        count=1,
        **_client_kwargs(settings),
    )
    async with one, two:
        for n in range(1, 7):
            await add(redis_client, prefix, n)
        got: dict[str, list[str]] = {"c1": [], "c2": []}
        async with asyncio.timeout(WAIT):
            for _ in range(3):
                got["c1"].append((await anext(one)).id)
                got["c2"].append((await anext(two)).id)
    assert got["c1"] and got["c2"] and not set(got["c1"]) & set(got["c2"])
    assert sorted(got["c1"] + got["c2"]) == [f"a{n}" for n in range(1, 7)]
    assert (await redis_client.xpending(StreamNames(prefix).topic("politics-and-government"), "g"))[
        "pending"
    ] == 0


async def test_restarted_group_consumer_resumes_without_missing_or_repeating(
    settings: Settings, redis_client: aioredis.Redis, prefix: str
) -> None:
    stream = StreamNames(prefix).topic("politics-and-government")
    kwargs = {
        "topic": "politics-and-government",
        "group": "g",
        "consumer": "r1",
        **_client_kwargs(settings),
    }
    async with subscribe(**kwargs) as articles:  # creates the group at "$"
        for n in range(1, 6):
            await add(redis_client, prefix, n)
        async with asyncio.timeout(WAIT):
            assert [(await anext(articles)).id for _ in range(2)] == ["a1", "a2"]
    # A clean end acknowledged both; a3-a5 were fetched with them (one read of up to
    # `count`), so they wait, pending, for this consumer's next run.
    pending = await redis_client.xpending_range(stream, "g", min="-", max="+", count=10)
    assert [p["consumer"] for p in pending] == [b"r1"] * 3

    # The loop body fails on a3: it stays pending (so do a4, a5, fetched with it).
    with pytest.raises(RuntimeError):
        async with subscribe(**kwargs) as articles:
            async for doc in articles:
                assert doc.id == "a3"
                raise RuntimeError("consumer crashed")
    assert (await redis_client.xpending(stream, "g"))["pending"] == 3

    # The restarted consumer gets a3 again, then a4, a5, then new entries only.
    async with subscribe(**kwargs) as articles:
        async with asyncio.timeout(WAIT):
            got = [(await anext(articles)).id for _ in range(3)]
            await add(redis_client, prefix, 6)
            got.append((await anext(articles)).id)
    assert got == ["a3", "a4", "a5", "a6"]
    assert (await redis_client.xpending(stream, "g"))["pending"] == 0


async def test_group_from_start_and_since(
    settings: Settings, redis_client: aioredis.Redis, prefix: str
) -> None:
    ids = []
    for n in (1, 2, 3):  # a few ms apart: --since has millisecond resolution
        ids.append(await add(redis_client, prefix, n))
        await asyncio.sleep(0.005)
    async with subscribe(
        topic="politics-and-government", group="all", from_start=True, **_client_kwargs(settings)
    ) as articles:
        async with asyncio.timeout(WAIT):
            assert [(await anext(articles)).id for _ in range(3)] == ["a1", "a2", "a3"]
    ms = int(ids[1].split("-")[0])
    since = datetime.fromtimestamp(ms / 1000, UTC)
    async with subscribe(
        topic="politics-and-government", since=since, **_client_kwargs(settings)
    ) as articles:
        async with asyncio.timeout(WAIT):
            assert (await anext(articles)).id == "a2"


# --- CLI ---------------------------------------------------------------------------------


@pytest.fixture
def sync_redis(redis_url: str, prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def _cli_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(
        REDIS_URL=settings.redis_url or "",
        NEWSFLOW_PREFIX=settings.prefix,
        NEWSFLOW_DATA_DIR=str(settings.data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


def _add_sync(client: redis.Redis, prefix: str, n: int) -> str:
    entry_id = client.xadd(
        StreamNames(prefix).topic("politics-and-government"), to_fields(article(n))
    )
    return str(entry_id.decode())  # type: ignore[union-attr]


def _subscribe_cmd(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "services.cli",
        "subscribe",
        "--topic",
        "politics-and-government",
        *extra,
    ]


def test_cli_group_resumes_where_the_previous_run_stopped(
    settings: Settings, sync_redis: redis.Redis, prefix: str
) -> None:
    for n in range(1, 5):
        _add_sync(sync_redis, prefix, n)
    cmd = _subscribe_cmd(
        "--group", "cli", "--consumer", "c1", "--from-start", "--json", "--count", "2"
    )
    runs = [
        subprocess.run(
            cmd, check=False, env=_cli_env(settings), cwd=REPO, capture_output=True, timeout=60
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr.decode()
    got = [[orjson.loads(line)["id"] for line in run.stdout.splitlines()] for run in runs]
    assert got == [["a1", "a2"], ["a3", "a4"]]
    assert (
        sync_redis.xpending(StreamNames(prefix).topic("politics-and-government"), "cli")["pending"]
        == 0
    )  # type: ignore[index]


def test_cli_receives_a_new_entry_live(
    settings: Settings, sync_redis: redis.Redis, prefix: str
) -> None:
    stream = StreamNames(prefix).topic("politics-and-government")
    with subprocess.Popen(
        _subscribe_cmd("--group", "live", "--count", "1"),
        env=_cli_env(settings),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            deadline = time.monotonic() + 60
            while not sync_redis.exists(stream) or not sync_redis.xinfo_groups(stream):
                assert proc.poll() is None, "the CLI exited early"
                assert time.monotonic() < deadline, "the CLI never created its group"
                time.sleep(0.05)
            written = time.perf_counter()
            _add_sync(sync_redis, prefix, 1)
            assert proc.stdout is not None
            line = proc.stdout.readline()  # bounded by the CLI's --count 1 and pytest-timeout
            latency = time.perf_counter() - written
            assert proc.wait(WAIT) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    print(f"CLI delivery latency: {latency * 1000:.1f} ms")
    assert b"Article 1 (news.test) | Iraq | politics-and-government" in line
