"""End to end: a saved filter subscription receives the matching articles, and only them.

The subscription is created over the API; the real enrich worker writes each
article that matches it to ``subs:<name>`` as it passes; the Python client and the
SSE endpoint read it from there.
"""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from shared.client import submit, subscribe
from shared.streams import StreamNames
from tests.e2e.test_pipeline import workers  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

WAIT = 60.0
NAME = "iran-conflict"
SPORT = {
    "title": "Liverpool beat Arsenal 2-1 in the Premier League",
    "body": "Liverpool beat Arsenal 2-1 at Anfield on Sunday. The striker scored twice "
    "in the second half and the goalkeeper saved a penalty, the football club said.",
    "source": "sport.test",
}


async def test_subscription_receives_only_matching_articles(
    workers: dict[str, str],  # noqa: F811 - the imported fixture
    seed_text: tuple[str, str],
) -> None:
    api = workers["api"]
    title, body = seed_text
    async with httpx.AsyncClient(base_url=api, timeout=WAIT) as http:
        created = await http.post(
            "/v1/subscriptions",
            json={"name": NAME, "entities": ["Iran"], "topics": ["conflict-war-and-peace"]},
        )
        assert created.status_code == 201, created.text
        async with subscribe(
            subscription=NAME, redis_url=workers["redis_url"], prefix=workers["prefix"]
        ) as articles:
            seed = await submit({"title": title, "body": body, "source": "seed"}, api=api)
            sport = await submit(SPORT, api=api)
            assert seed["status"] == sport["status"] == "accepted"
            async with asyncio.timeout(WAIT):
                doc = await anext(articles)
            assert doc.id == seed["id"]
            assert "Iran" in {e.name for e in doc.entities}

            # Once the sport article is stored, its enrichment is done: the stream holds
            # the seed alone.
            async with asyncio.timeout(WAIT):
                while (await http.get(f"/v1/articles/{sport['id']}")).status_code != 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
    client = aioredis.Redis.from_url(workers["redis_url"])
    try:
        entries = await client.xrange(StreamNames(workers["prefix"]).subs(NAME))
    finally:
        await client.aclose()
    assert [orjson.loads(fields[b"json"])["id"] for _, fields in entries] == [seed["id"]]
