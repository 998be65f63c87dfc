"""End to end: an article ingested over HTTP reaches the subscribers of its topic.

The real worker processes enrich it; the Python client and the SSE endpoint of the
real API both receive it from ``topics:<slug>``. The delivery latency is printed
(run with ``-s``); the test only bounds the wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from shared.client import submit, subscribe
from shared.models import EnrichedArticle
from tests.e2e.test_pipeline import workers  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

TOPIC = "conflict-war-and-peace"
WAIT = 30.0


async def _first_sse_article(lines: AsyncIterator[str]) -> EnrichedArticle:
    data = None
    async for line in lines:
        if line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data is not None:
            return EnrichedArticle.model_validate_json(data)
    raise AssertionError("the event stream ended")


async def test_ingested_article_reaches_client_and_sse_subscribers(
    workers: dict[str, str],  # noqa: F811 - the imported fixture
    seed_text: tuple[str, str],
) -> None:
    title, body = seed_text
    url = f"{workers['api']}/v1/streams/topics/{TOPIC}"
    async with (
        httpx.AsyncClient(timeout=WAIT) as http,
        http.stream("GET", url) as response,
        subscribe(
            topic=TOPIC, group="e2e", redis_url=workers["redis_url"], prefix=workers["prefix"]
        ) as articles,
    ):
        assert response.status_code == 200
        lines = response.aiter_lines()
        async with asyncio.timeout(WAIT):
            while await anext(lines) != ": connected":
                pass
        result = await submit({"title": title, "body": body, "source": "seed"}, api=workers["api"])
        accepted = time.perf_counter()
        assert result["status"] == "accepted"
        async with asyncio.timeout(WAIT):
            doc = await anext(articles)
            client_latency = time.perf_counter() - accepted
            sse_doc = await _first_sse_article(lines)
            sse_latency = time.perf_counter() - accepted
        # The first article also pays for warming up the worker; time a second one.
        again = await submit(
            {"title": f"{title} (update)", "body": f"{body} Updated.", "source": "seed"},
            api=workers["api"],
        )
        accepted = time.perf_counter()
        async with asyncio.timeout(WAIT):
            second = await anext(articles)
            warm_latency = time.perf_counter() - accepted
    print(
        f"ingest -> subscriber (enrichment included): first article client "
        f"{client_latency * 1000:.0f} ms, SSE <= {sse_latency * 1000:.0f} ms; "
        f"second article client {warm_latency * 1000:.0f} ms"
    )
    assert second.id == again["id"] != result["id"]
    assert doc.id == sse_doc.id == result["id"]
    assert doc.title == title
    assert TOPIC in {t.slug for t in doc.topics}
    assert "Iran" in {e.name for e in doc.entities}
