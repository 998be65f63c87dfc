"""Configuration and small input faults: a clear error, never a silent opening,
a leaked secret, Python's own message or a stuck ordering."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from shared.codec import to_fields
from shared.models import Article, ArticleIn, EnrichedArticle, Provenance
from shared.normalize import normalize
from shared.settings import Settings
from shared.storage import SearchQuery, open_storage
from shared.streams import StreamNames
from tests.integration.test_ingest import _raw, serve
from tests.processes import NEWSFLOW, REPO, newsflow_env, wait_until

pytestmark = pytest.mark.integration


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEWSFLOW, "worker", "sink"],
        env=newsflow_env(**env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_empty_api_key_stops_the_start() -> None:
    result = _start({"NEWSFLOW_API_KEY": ""})
    assert result.returncode != 0
    assert "NEWSFLOW_API_KEY" in result.stderr + result.stdout
    assert "unset it to run open" in result.stderr + result.stdout


def test_a_bad_redis_url_does_not_print_its_password() -> None:
    result = _start({"REDIS_URL": "redis+tls://user:s3cr3t-pw@cache.internal:6379/0"})
    assert result.returncode != 0
    assert "REDIS_URL must start with" in result.stderr + result.stdout
    assert "s3cr3t-pw" not in result.stderr + result.stdout


INVISIBLE = ["\u202e", "\u2066\u2069", "\u00ad", "\u3164", "\u2800", "\u200e\u3164 \u2800"]


@pytest.mark.parametrize("title", INVISIBLE)
async def test_a_title_of_invisible_characters_is_refused(
    settings: Settings, redis_client: aioredis.Redis, title: str
) -> None:
    async with serve(settings) as api:
        response = await api.post("/v1/articles", json={"title": title, "body": "Some text."})
    assert response.status_code == 422
    assert "title" in response.json()["error"]["message"]
    assert await _raw(redis_client, settings) == []


async def test_a_huge_numeric_entity_is_one_replacement_character(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    html = "<p>Before &#" + "9" * 5_000 + "; after &#x41;.</p>"
    async with serve(settings) as api:
        response = await api.post("/v1/articles", json={"title": "Entities", "html": html})
    assert response.status_code == 202, response.text
    (article,) = await _raw(redis_client, settings)
    assert article.body == "Before \ufffd after A."


async def test_credentials_are_stripped_and_line_breaks_refused_in_urls(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    async with serve(settings) as api:
        ok = await api.post(
            "/v1/articles",
            json={"title": "T", "body": "B", "url": "https://user:pw@news.test/a?x=1"},
        )
        broken = [
            await api.post(
                "/v1/articles",
                json={"title": "T", "body": "B", "url": f"https://news.test/a{c}b?x=1"},
            )
            for c in ("\n", "\r", "\t", "\x00")
        ]
    assert ok.status_code == 202
    (article,) = await _raw(redis_client, settings)
    assert article.url == "https://news.test/a?x=1"
    assert article.canonical_url == "https://news.test/a?x=1"
    for response in broken:
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["fields"][0]["field"] == "url"


def _enriched(article_id: str, published: datetime | None, received: datetime) -> EnrichedArticle:
    article = Article(
        id=article_id,
        title=f"Title {article_id}",
        body="Body.",
        published_at=published,
        received_at=received,
        content_hash=article_id,
        word_count=2,
    )
    return EnrichedArticle(
        **article.model_dump(),
        provenance=Provenance(
            newsflow_version="test", ner_model=None, taxonomy="test", enriched_at=received
        ),
    )


async def test_a_far_future_date_does_not_lead_newest_first(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    storage = open_storage(f"sqlite:///{tmp_path / 'newsflow.db'}")
    await storage.open()
    try:
        await storage.upsert_many(
            [
                _enriched("future", datetime(9999, 12, 31, tzinfo=UTC), now - timedelta(hours=2)),
                _enriched("tomorrow", now + timedelta(hours=20), now - timedelta(hours=1)),
                _enriched("recent", now - timedelta(minutes=5), now),
            ]
        )
        page = await storage.search(SearchQuery(limit=10))
        stored = await storage.get("future")
    finally:
        await storage.close()
    assert [a.id for a in page.items] == ["tomorrow", "recent", "future"]
    assert stored is not None and stored.published_at == datetime(9999, 12, 31, tzinfo=UTC)


def test_unreadable_saved_filters_do_not_stop_enrichment(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    names = StreamNames(prefix)
    client = redis.Redis.from_url(redis_url)
    client.set(f"{prefix}subscriptions", "a string where a hash belongs")
    article = normalize(ArticleIn(title="Ministers meet", body="Talks resumed in Paris."))
    client.xadd(names.raw, to_fields(article))
    env = newsflow_env(
        REDIS_URL=redis_url,
        NEWSFLOW_PREFIX=prefix,
        NEWSFLOW_NER="off",
        NEWSFLOW_ENRICH_HTTP_PORT="0",
        NEWSFLOW_DATA_DIR=str(tmp_path),
    )
    log = tmp_path / "enrich.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [*NEWSFLOW, "worker", "enrich"], env=env, cwd=REPO, stdout=out, stderr=out
        )
        try:
            wait_until(lambda: client.xlen(names.enriched) >= 1, 60, "the article enriched")
        finally:
            worker.terminate()
            worker.wait(60)
    assert client.xlen(names.dlq) == 0
    assert "saved filters unreadable" in log.read_text(errors="replace")
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
