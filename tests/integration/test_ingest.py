"""The ingest service against a real Redis: HTTP API and inbox reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from services.embedded import free_port
from services.ingest.app import build_api
from shared.models import Article, DeadLetter
from shared.settings import Settings
from shared.streams import GROUP_INGEST, StreamNames

pytestmark = pytest.mark.integration

ARTICLE = {
    "title": "Iraq asks US for team",
    "body": "BAGHDAD - The United States on Friday rejected a request by Iraq.",
    "url": "https://news.test/iraq?utm_source=rss",
    "source": "news.test",
    "published_at": "2020-01-10T12:00:00Z",
}


@asynccontextmanager
async def serve(settings: Settings, ready: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """The ingest app in-process; with ``ready``, once /readyz says the groups exist."""
    app = build_api(settings, settings.redis_url or "")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client,
    ):
        if ready:

            async def is_ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await _wait_for(is_ready)
        yield client


@pytest.fixture
async def api(settings: Settings, redis_client: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    # Depends on redis_client so the app stops before the test's keys are deleted.
    async with serve(settings) as client:
        yield client


async def _raw(redis_client: aioredis.Redis, settings: Settings) -> list[Article]:
    entries = await redis_client.xrange(StreamNames(settings.prefix).raw)
    return [Article.model_validate_json(fields[b"json"]) for _, fields in entries]


async def test_accepted_article_is_on_the_raw_stream_normalized(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    response = await api.post("/v1/articles", json=ARTICLE)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted"
    (article,) = await _raw(redis_client, settings)
    assert article.id == body["id"]
    assert article.canonical_url == "https://news.test/iraq"
    assert (
        article.published_at is not None
        and article.published_at.isoformat() == "2020-01-10T12:00:00+00:00"
    )
    assert article.word_count == 5 + 11


async def test_exact_duplicate_is_reported_and_not_enqueued_twice(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    first = (await api.post("/v1/articles", json=ARTICLE)).json()
    second = (await api.post("/v1/articles", json=ARTICLE)).json()
    assert second == {"id": first["id"], "status": "duplicate"}
    updated = (await api.post("/v1/articles", json={**ARTICLE, "body": "Corrected."})).json()
    assert updated == {"id": first["id"], "status": "accepted"}
    assert len(await _raw(redis_client, settings)) == 2


@pytest.mark.parametrize(
    ("content", "headers", "status", "code", "needle"),
    [
        (orjson.dumps({"body": "no title"}), {}, 422, "invalid_article", "title"),
        (orjson.dumps({**ARTICLE, "extra": 1}), {}, 422, "invalid_article", "extra"),
        (b"{not json", {}, 400, "invalid_json", "JSON"),
        (b"[1, 2]", {}, 422, "invalid_article", "object"),
        (
            orjson.dumps(ARTICLE),
            {"content-type": "text/plain"},
            415,
            "unsupported_media_type",
            "application/json",
        ),
    ],
)
async def test_bad_requests_get_clear_errors_and_nothing_is_enqueued(
    api: httpx.AsyncClient,
    redis_client: aioredis.Redis,
    settings: Settings,
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
    needle: str,
) -> None:
    response = await api.post(
        "/v1/articles", content=content, headers={"content-type": "application/json", **headers}
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert needle in error["message"]
    assert await _raw(redis_client, settings) == []


async def test_missing_title_error_lists_the_field(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/articles", json={"body": "no title"})
    assert response.json()["error"]["fields"] == [{"field": "title", "message": "field required"}]


async def test_body_over_the_request_limit_is_413_naming_the_limit(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    small = settings.model_copy(update={"max_request_bytes": 2048})
    async with serve(small) as client:
        response = await client.post("/v1/articles", json={**ARTICLE, "body": "x" * 5000})
    assert response.status_code == 413
    assert "NEWSFLOW_MAX_REQUEST_BYTES" in response.json()["error"]["message"]


async def test_batch_ndjson_reports_each_item_and_keeps_the_valid_ones(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    lines = [
        orjson.dumps(ARTICLE),
        b"{broken",
        orjson.dumps({"title": "only title"}),
        orjson.dumps({**ARTICLE, "url": "https://news.test/other"}),
        orjson.dumps(ARTICLE),
    ]
    response = await api.post(
        "/v1/articles/batch",
        content=b"\n".join(lines),
        headers={"content-type": "application/x-ndjson"},
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "rejected",
        "rejected",
        "accepted",
        "duplicate",
    ]
    assert body["results"][2]["error"]["fields"][0]["field"] == "body"
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 1, 2)
    assert len(await _raw(redis_client, settings)) == 2


async def test_batch_ndjson_results_name_the_line_their_messages_cite(
    api: httpx.AsyncClient,
) -> None:
    body = b"\n".join(
        [orjson.dumps(ARTICLE), b"", b"   ", b"{broken", b"", orjson.dumps({"title": "t"})]
    )
    response = await api.post(
        "/v1/articles/batch", content=body, headers={"content-type": "application/x-ndjson"}
    )
    results = response.json()["results"]
    assert [(r["index"], r["line"], r["status"]) for r in results] == [
        (0, 1, "accepted"),
        (1, 4, "rejected"),
        (2, 6, "rejected"),
    ]
    assert "line 4" in results[1]["error"]["message"]


async def test_batch_json_array(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/articles/batch", json=[ARTICLE, {"title": "x", "body": "y"}])
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"]


async def test_api_key_is_required_when_set(settings: Settings) -> None:
    keyed = settings.model_copy(update={"api_key": "s3cret"})
    async with serve(keyed) as client:
        assert (await client.post("/v1/articles", json=ARTICLE)).status_code == 401
        wrong = await client.post("/v1/articles", json=ARTICLE, headers={"x-api-key": "nope"})
        assert wrong.status_code == 401
        bearer = await client.post(
            "/v1/articles", json=ARTICLE, headers={"authorization": "Bearer s3cret"}
        )
        assert bearer.status_code == 202
        header = await client.get("/v1/search", headers={"x-api-key": "s3cret"})
        assert header.status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_readyz_checks_redis_and_groups(api: httpx.AsyncClient) -> None:
    response = await api.get("/readyz")
    assert response.status_code == 200, response.text


async def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_inbox_entries_json_and_flat_are_ingested_bad_ones_dead_lettered(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    names = StreamNames(settings.prefix)
    await redis_client.xadd(names.inbox, {"json": orjson.dumps(ARTICLE)})
    await redis_client.xadd(
        names.inbox, {"title": "Flat one", "body": "Flat body text.", "authors": "A. One, B. Two"}
    )
    await redis_client.xadd(names.inbox, {"json": b"{oops"})
    await redis_client.xadd(names.inbox, {"body": "no title here"})

    async def done() -> bool:
        return (
            len(await _raw(redis_client, settings)) == 2 and await redis_client.xlen(names.dlq) == 2
        )

    await _wait_for(done)
    titles = sorted(a.title for a in await _raw(redis_client, settings))
    assert titles == ["Flat one", "Iraq asks US for team"]
    flat = next(a for a in await _raw(redis_client, settings) if a.title == "Flat one")
    assert flat.authors == ["A. One", "B. Two"]
    letters = [
        DeadLetter.model_validate_json(f[b"json"]) for _, f in await redis_client.xrange(names.dlq)
    ]
    assert {letter.source_stream for letter in letters} == {names.inbox}
    assert letters[0].payload == {"json": "{oops"}
    assert "JSON" in letters[0].error
    assert "title" in letters[1].error
    pending = await redis_client.xpending(names.inbox, GROUP_INGEST)
    assert pending["pending"] == 0
    # The inbox reader's own figures are on the API's /metrics.
    metrics = (await api.get("/metrics")).text
    assert 'newsflow_entries_processed_total{stage="ingest"} 4.0' in metrics
    assert 'newsflow_entries_dead_lettered_total{reason="invalid",stage="ingest"} 2.0' in metrics


async def test_backlog_over_the_limit_gets_429_with_retry_after(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    limited = settings.model_copy(update={"max_raw_backlog": 2})
    async with serve(limited) as client:
        names = StreamNames(settings.prefix)
        for i in range(5):
            await redis_client.xadd(names.raw, {"json": f'{{"n": {i}}}'.encode()})
        response = await client.post("/v1/articles", json=ARTICLE)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "5"
    assert "NEWSFLOW_MAX_RAW_BACKLOG" in response.json()["error"]["message"]
    assert await redis_client.xlen(names.raw) == 5


async def test_a_backlog_before_the_sink_counts_too(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    # Storage away: enrichment goes on and the articles wait for the sink instead.
    limited = settings.model_copy(update={"max_raw_backlog": 4})
    names = StreamNames(settings.prefix)
    async with serve(limited) as client:
        for i in range(3):
            await redis_client.xadd(names.enriched, {"json": f'{{"n": {i}}}'.encode()})
        assert (await client.post("/v1/articles", json=ARTICLE)).status_code == 202
        for i in range(3):
            await redis_client.xadd(names.enriched, {"json": f'{{"n": {i + 3}}}'.encode()})
        await asyncio.sleep(1.1)  # the gate asks Redis at most once a second
        response = await client.post("/v1/articles", json={**ARTICLE, "title": "Another"})
    assert response.status_code == 429
    assert "7 accepted articles are not yet stored" in response.json()["error"]["message"]


async def test_redis_unreachable_gives_503_and_readyz_fails(settings: Settings) -> None:
    dead = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with serve(dead, ready=False) as client:
        response = await client.post("/v1/articles", json=ARTICLE)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"]["code"] == "unavailable"
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert "unreachable" in ready.text
        assert (await client.get("/healthz")).status_code == 200


async def test_metrics_show_streams_groups_dead_letters_and_api_counts(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    names = StreamNames(settings.prefix)
    assert (await api.post("/v1/articles", json=ARTICLE)).status_code == 202
    assert (await api.post("/v1/articles", json=ARTICLE)).json()["status"] == "duplicate"
    await api.post("/v1/articles/batch", json=[{"title": "x", "body": "y"}, {"title": "z"}])
    await redis_client.xadd(names.dlq, {"json": b"{}"})
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert f'newsflow_stream_length{{stream="{names.raw}"}} 2.0' in text
    assert f'newsflow_group_pending{{group="enrich",stream="{names.raw}"}} 0.0' in text
    assert f'newsflow_group_lag{{group="enrich",stream="{names.raw}"}} 2.0' in text
    assert "newsflow_dlq_entries 1.0" in text
    assert 'newsflow_api_articles_total{status="accepted"} 2.0' in text
    assert 'newsflow_api_articles_total{status="duplicate"} 1.0' in text
    assert 'newsflow_api_articles_total{status="rejected"} 1.0' in text
