"""Entity search by any name an article used, through the HTTP API and the CLI,
on SQLite and on PostgreSQL (skipped, with the reason, when no server answers)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from services import cli, tools
from shared.models import EnrichedArticle, Entity, Provenance
from shared.settings import Settings
from shared.storage import open_storage
from tests.integration.test_ingest import serve
from tests.unit.conftest import (  # noqa: F401  (the PostgreSQL fixtures, shared)
    postgres_database_url,
    postgres_schema_url,
    postgres_server_url,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def doc(
    article_id: str, body: str, hours: int, *entities: tuple[str, list[str]]
) -> EnrichedArticle:
    published = T0 + timedelta(hours=hours)
    return EnrichedArticle(
        id=article_id,
        title=body.split(".", maxsplit=1)[0],
        body=body,
        source="news.test",
        language="en",
        published_at=published,
        received_at=published,
        content_hash=(article_id * 64)[:64],
        word_count=len(body.split()),
        entities=[
            Entity(name=name, type="PERSON", salience=0.5, mention_count=2, surface_forms=forms)
            for name, forms in entities
        ],
        provenance=Provenance(
            newsflow_version="0.3.0", ner_model="m", taxonomy="t", enriched_at=published
        ),
    )


DOCS = [
    doc(
        "w1",
        "Donald Trump signed the order. Trump said it would stand.",
        0,
        ("Donald Trump", ["Donald Trump", "Trump"]),
    ),
    doc(
        "w2",
        "Trump visited Ohio. The president spoke for an hour.",
        1,
        ("Donald Trump", ["Trump"]),
    ),
    doc("w3", "Kamala Harris campaigned in Atlanta.", 2, ("Kamala Harris", ["Kamala Harris"])),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_schema_url"))
        return settings.model_copy(update={"database_url": url})
    return settings


async def _store(settings: Settings) -> None:
    storage = open_storage(settings.resolved_database_url)
    await storage.open()
    try:
        await storage.upsert_many(DOCS)
    finally:
        await storage.close()


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_api_search_by_surface_form_and_top_by_canonical_name(
    backend_settings: Settings, redis_client: aioredis.Redis
) -> None:
    await _store(backend_settings)
    async with serve(backend_settings) as api:
        for name in ("Trump", "trump", "Donald Trump", "DONALD TRUMP"):
            assert _ids(await api.get("/v1/search", params={"entity": name})) == ["w2", "w1"]
        # w3 wrote only "Kamala Harris": a person is found by surname as well.
        assert _ids(await api.get("/v1/search", params={"entity": "Harris"})) == ["w3"]
        assert _ids(await api.get("/v1/search", params={"entity": "Kamala"})) == []
        top = await api.get("/v1/entities/top")
        assert top.json() == {
            "items": [
                {"name": "Donald Trump", "type": "PERSON", "articles": 2},
                {"name": "Kamala Harris", "type": "PERSON", "articles": 1},
            ]
        }


def test_cli_search_entity_by_surface_form(
    backend_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    asyncio.run(_store(backend_settings))
    monkeypatch.setattr(tools, "get_settings", lambda: backend_settings)

    code = cli.main(["search", "--entity", "trump", "--json"])
    captured = capsysbinary.readouterr()

    assert code == 0, captured.err
    assert [orjson.loads(line)["id"] for line in captured.out.splitlines()] == ["w2", "w1"]
