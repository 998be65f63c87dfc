"""Saved filter subscriptions against a real Redis: the API, the CLI, SSE and the client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from shared import subscriptions
from shared.client import subscribe
from shared.codec import to_fields
from shared.settings import Settings
from shared.streams import StreamNames
from tests.integration.test_ingest import serve
from tests.integration.test_subscribe import KEY, REPO, EventReader, api_server, article

pytestmark = pytest.mark.integration

WAIT = 10.0
IRAN = {"name": "iran-war", "entities": ["Iran"], "topics": ["conflict-war-and-peace"]}


@pytest.fixture
async def api(settings: Settings, redis_client: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(settings) as client:
        yield client


async def test_create_list_get_delete(api: httpx.AsyncClient, settings: Settings) -> None:
    created = await api.post("/v1/subscriptions", json=IRAN)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "iran-war"
    assert body["topics_mode"] == "any"
    assert body["entities"] == ["Iran"]
    assert body["stream"] == StreamNames(settings.prefix).subs("iran-war")
    await api.post("/v1/subscriptions", json={"name": "all-news"})

    listed = (await api.get("/v1/subscriptions")).json()["items"]
    assert [s["name"] for s in listed] == ["all-news", "iran-war"]
    one = await api.get("/v1/subscriptions/iran-war")
    assert one.status_code == 200
    assert one.json()["topics"] == ["conflict-war-and-peace"]

    gone = await api.delete("/v1/subscriptions/iran-war")
    assert gone.status_code == 204
    assert (await api.get("/v1/subscriptions/iran-war")).status_code == 404
    again = await api.delete("/v1/subscriptions/iran-war")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"
    assert [s["name"] for s in (await api.get("/v1/subscriptions")).json()["items"]] == ["all-news"]


async def test_existing_name_is_409_unless_replace(api: httpx.AsyncClient) -> None:
    assert (await api.post("/v1/subscriptions", json=IRAN)).status_code == 201
    taken = await api.post("/v1/subscriptions", json={**IRAN, "entities": ["Iraq"]})
    assert taken.status_code == 409
    assert "replace=true" in taken.json()["error"]["message"]
    assert (await api.get("/v1/subscriptions/iran-war")).json()["entities"] == ["Iran"]
    replaced = await api.post(
        "/v1/subscriptions", params={"replace": "true"}, json={**IRAN, "entities": ["Iraq"]}
    )
    assert replaced.status_code == 201
    assert (await api.get("/v1/subscriptions/iran-war")).json()["entities"] == ["Iraq"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"topics": ["politics"]}, "name"),
        ({"name": "x", "topics_mode": "some"}, "topics_mode"),
        ({"name": "x", "entities": "Iran"}, "entities"),
        ({"name": "x", "colour": "red"}, "colour"),
    ],
)
async def test_invalid_subscription_is_422_naming_the_field(
    api: httpx.AsyncClient, payload: dict[str, object], field: str
) -> None:
    response = await api.post("/v1/subscriptions", json=payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_subscription"
    assert field in [f["field"] for f in error["fields"]]
    assert field in error["message"]


async def test_bad_json_and_bad_path_names(api: httpx.AsyncClient) -> None:
    bad = await api.post(
        "/v1/subscriptions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_json"
    assert (await api.get("/v1/subscriptions/Not%20A%20Name")).status_code == 422
    assert (await api.get("/v1/streams/subscriptions/missing")).status_code == 404


async def test_index_refreshes_and_matches(
    redis_client: aioredis.Redis, settings: Settings
) -> None:
    names = StreamNames(settings.prefix)
    index = subscriptions.SubscriptionIndex(redis_client, names, max_age=0.0)
    assert await index.matching(article(1)) == []
    await subscriptions.save(
        redis_client, names, subscriptions.SavedFilter(name="iraq", entities=["iraq"])
    )
    await subscriptions.save(
        redis_client, names, subscriptions.SavedFilter(name="sport", topics=["sport"])
    )
    await redis_client.hset(subscriptions.key(names), "broken", b"{not json")
    assert await index.matching(article(1)) == ["iraq"]
    cached = subscriptions.SubscriptionIndex(redis_client, names, max_age=60.0)
    assert [s.name for s in await cached.current()] == ["iraq", "sport"]
    await subscriptions.delete(redis_client, names, "iraq")
    assert [s.name for s in await cached.current()] == ["iraq", "sport"]  # at most once per max_age


async def test_sse_and_client_follow_a_subscription(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    sse_settings = settings.model_copy(update={"api_key": KEY, "sse_keepalive_seconds": 0.2})
    names = StreamNames(settings.prefix)
    await subscriptions.save(redis_client, names, subscriptions.SavedFilter(name="iraq_news"))
    headers = {"authorization": f"Bearer {KEY}"}
    async with (
        api_server(sse_settings) as base,
        httpx.AsyncClient(timeout=WAIT, headers=headers) as http,
        http.stream("GET", f"{base}/v1/streams/subscriptions/iraq_news") as response,
        subscribe(
            subscription="iraq_news", redis_url=settings.redis_url, prefix=settings.prefix
        ) as articles,
    ):
        assert response.status_code == 200
        reader = EventReader(response)
        await reader.comment("connected")
        entry_id = (
            await redis_client.xadd(names.subs("iraq_news"), to_fields(article(7)))
        ).decode()
        (event,) = await reader.events(1)
        assert event["id"] == entry_id
        assert orjson.loads(event["data"])["id"] == "a7"
        async with asyncio.timeout(WAIT):
            doc = await anext(articles)
        assert doc.id == "a7"
        assert articles.last_id == entry_id


def test_client_needs_exactly_one_of_topic_and_subscription(settings: Settings) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        subscribe(redis_url=settings.redis_url)
    with pytest.raises(ValueError, match="exactly one"):
        subscribe(topic="politics", subscription="x", redis_url=settings.redis_url)


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(REDIS_URL=settings.redis_url or "", NEWSFLOW_PREFIX=settings.prefix)
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "subscriptions", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cli_add_list_rm(settings: Settings, redis_client: aioredis.Redis) -> None:
    added = await asyncio.to_thread(
        _cli,
        settings,
        "add",
        "iran-war",
        "--topic",
        "conflict-war-and-peace",
        "--topic",
        "politics-and-government",
        "--all-topics",
        "--entity",
        "Iran",
        "--keyword",
        "troops",
        "--language",
        "en",
    )
    assert added.returncode == 0, added.stderr
    assert "subs:iran-war" in added.stdout
    saved = await subscriptions.get(redis_client, StreamNames(settings.prefix), "iran-war")
    assert saved is not None
    assert saved.topics == ["conflict-war-and-peace", "politics-and-government"]
    assert saved.topics_mode == "all"
    assert (saved.entities, saved.keywords, saved.language) == (["Iran"], ["troops"], "en")

    listed = await asyncio.to_thread(_cli, settings, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [orjson.loads(line)["name"] for line in listed.stdout.splitlines()] == ["iran-war"]
    pretty = await asyncio.to_thread(_cli, settings, "list")
    assert "iran-war" in pretty.stdout and "1 subscription(s)" in pretty.stdout

    bad = await asyncio.to_thread(_cli, settings, "add", "Bad Name")
    assert bad.returncode == 2
    assert "name" in bad.stderr

    removed = await asyncio.to_thread(_cli, settings, "rm", "iran-war")
    assert removed.returncode == 0, removed.stderr
    missing = await asyncio.to_thread(_cli, settings, "rm", "iran-war")
    assert missing.returncode == 1
    assert await subscriptions.list_all(redis_client, StreamNames(settings.prefix)) == []


async def test_cli_subscribe_to_a_subscription(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    await subscriptions.save(redis_client, names, subscriptions.SavedFilter(name="mine"))
    await redis_client.xadd(names.subs("mine"), to_fields(article(3)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(REDIS_URL=settings.redis_url or "", NEWSFLOW_PREFIX=settings.prefix)
    command = [sys.executable, "-m", "services.cli", "subscribe", "--from-start", "--count", "1"]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--json", "--subscription", "mine"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [orjson.loads(line)["id"] for line in done.stdout.splitlines()] == ["a3"]
    both = await asyncio.to_thread(
        subprocess.run,
        [*command, "--subscription", "mine", "--topic", "politics"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert both.returncode == 2
    assert "not allowed with" in both.stderr
