"""``GET /v1/articles/{id}?format=...`` against a real Redis and a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from shared.models import EnrichedArticle, Entity, Provenance, Topic
from shared.settings import Settings
from shared.storage import open_storage
from tests.integration.test_ingest import serve

pytestmark = pytest.mark.integration

DOC = EnrichedArticle(
    id="0123456789abcdef0123456789abcdef",
    title="Iraq asks US for team",
    body="BAGHDAD - The United States on Friday rejected a request by Iraq.",
    url="https://news.test/iraq?utm_source=rss",
    canonical_url="https://news.test/iraq",
    source="news.test",
    language="en",
    published_at=datetime(2020, 1, 10, 12, 0, tzinfo=UTC),
    received_at=datetime(2020, 1, 10, 12, 1, tzinfo=UTC),
    content_hash="0123456789abcdef" * 4,
    word_count=16,
    entities=[
        Entity(name="Iraq", type="GPE", salience=0.9, mention_count=2, country_code="IQ"),
        Entity(name="Donald Trump", type="PERSON", salience=0.4, mention_count=1),
        Entity(name="State Department", type="ORG", salience=0.2, mention_count=1),
    ],
    topics=[
        Topic(
            qcode="medtop:11000000",
            label="politics and government",
            slug="politics-and-government",
            relevance=0.85,
        )
    ],
    keywords=["Iraq"],
    provenance=Provenance(
        newsflow_version="0.1.0",
        ner_model="en_core_web_sm-3.8.0",
        taxonomy="test",
        enriched_at=datetime(2020, 1, 10, 12, 2, tzinfo=UTC),
    ),
)


async def _store(settings: Settings, doc: EnrichedArticle) -> None:
    storage = open_storage(settings.resolved_database_url)
    await storage.open()
    try:
        await storage.upsert_many([doc])
    finally:
        await storage.close()


async def test_article_as_ninjs_json_and_unknown_format(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    await _store(settings, DOC)
    async with serve(settings) as api:
        plain = await api.get(f"/v1/articles/{DOC.id}")
        assert plain.status_code == 200
        assert plain.json()["entities"][0]["name"] == "Iraq"  # newsflow's own model

        as_json = await api.get(f"/v1/articles/{DOC.id}", params={"format": "json"})
        assert as_json.json() == plain.json()

        ninjs = await api.get(f"/v1/articles/{DOC.id}", params={"format": "ninjs"})
        assert ninjs.status_code == 200
        assert ninjs.headers["content-type"].startswith("application/json")
        body = ninjs.json()
        assert body["uri"] == "https://news.test/iraq"
        assert body["type"] == "text"
        assert body["people"] == [{"name": "Donald Trump"}]
        assert body["organisations"] == [{"name": "State Department"}]
        assert body["places"] == [{"name": "Iraq"}]
        assert body["subjects"][0]["uri"] == "http://cv.iptc.org/newscodes/mediatopic/11000000"
        assert body["subjects"][0]["relevance"] == 85
        assert "entities" not in body

        bad = await api.get(f"/v1/articles/{DOC.id}", params={"format": "xml"})
        assert bad.status_code == 422
        error = bad.json()["error"]
        assert error["message"].startswith("format:")
        assert error["fields"][0]["field"] == "format"

        missing = await api.get("/v1/articles/nope", params={"format": "ninjs"})
        assert missing.status_code == 404
