"""The query API over storage: search sort, top entities, topic counts, /docs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from services import cli, tools
from shared.models import EnrichedArticle, Entity, Provenance, Topic
from shared.settings import Settings
from shared.storage import open_storage
from tests.integration.test_ingest import serve

pytestmark = pytest.mark.integration

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
POLITICS = ("medtop:11000000", "politics and government", "politics-and-government")
SPORT = ("medtop:15000000", "sport", "sport")


def doc(
    article_id: str,
    title: str,
    body: str,
    published_at: datetime,
    entities: Sequence[tuple[str, str]] = (),
    topics: Sequence[tuple[str, str, str]] = (),
) -> EnrichedArticle:
    return EnrichedArticle(
        id=article_id,
        title=title,
        body=body,
        url=f"https://news.test/{article_id}",
        canonical_url=f"https://news.test/{article_id}",
        source="news.test",
        language="en",
        published_at=published_at,
        received_at=published_at + timedelta(minutes=1),
        content_hash=(article_id * 64)[:64],
        word_count=len(body.split()),
        entities=[
            Entity(name=name, type=type_, salience=0.5, mention_count=1) for name, type_ in entities
        ],
        topics=[
            Topic(qcode=qcode, label=label, slug=slug, relevance=0.8)
            for qcode, label, slug in topics
        ],
        provenance=Provenance(
            newsflow_version="0.1.0",
            ner_model="en_core_web_sm-3.8.0",
            taxonomy="test",
            enriched_at=published_at + timedelta(minutes=2),
        ),
    )


DOCS = [
    doc(
        "d1",
        "Budget vote: budget talks collapse",
        "The budget vote failed; budget hawks blamed the vote count.",
        T0,
        [("Olaf Scholz", "PERSON"), ("Berlin", "GPE")],
        [POLITICS],
    ),
    doc(
        "d2",
        "Cup final tonight",
        "Fans in Berlin await the final; no budget vote today.",
        T0 + timedelta(minutes=30),
        [("Berlin", "GPE")],
        [SPORT],
    ),
    doc(
        "d3",
        "Weekly roundup",
        "Among other things, a budget vote was scheduled in Berlin.",
        T0 + timedelta(hours=2),
        [("Berlin", "GPE"), ("Olaf Scholz", "PERSON"), ("FIFA", "ORG")],
        [POLITICS, SPORT],
    ),
    doc("d4", "Quiet day", "Nothing happened.", T0 + timedelta(days=1), [("FIFA", "ORG")], [SPORT]),
]


async def _store(settings: Settings, docs: Sequence[EnrichedArticle]) -> None:
    storage = open_storage(settings.resolved_database_url)
    await storage.open()
    try:
        await storage.upsert_many(docs)
    finally:
        await storage.close()


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _bad_parameter(response: httpx.Response, name: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{name}:")


async def test_search_sorted_by_time_or_relevance(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    await _store(settings, DOCS)
    async with serve(settings) as api:
        assert _ids(await api.get("/v1/search", params={"q": "budget vote"})) == ["d3", "d2", "d1"]
        ranked = await api.get("/v1/search", params={"q": "budget vote", "sort": "relevance"})
        assert _ids(ranked)[0] == "d1"

        seen: list[str] = []
        params: dict[str, str | int] = {"q": "budget vote", "sort": "relevance", "limit": 1}
        while True:
            page = await api.get("/v1/search", params=params)
            seen += _ids(page)
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
            params["cursor"] = cursor
        assert seen == _ids(ranked)

        _bad_parameter(await api.get("/v1/search", params={"sort": "best"}), "sort")
        _bad_parameter(await api.get("/v1/search", params={"sort": "relevance"}), "sort")
        _bad_parameter(
            await api.get("/v1/search", params={"q": "budget", "cursor": params["cursor"]}),
            "cursor",
        )


async def test_top_entities(settings: Settings, redis_client: aioredis.Redis) -> None:
    await _store(settings, DOCS)
    async with serve(settings) as api:
        response = await api.get("/v1/entities/top")
        assert response.status_code == 200
        assert response.json() == {
            "items": [
                {"name": "Berlin", "type": "GPE", "articles": 3},
                {"name": "FIFA", "type": "ORG", "articles": 2},
                {"name": "Olaf Scholz", "type": "PERSON", "articles": 2},
            ]
        }
        since = (T0 + timedelta(hours=1)).isoformat()
        recent = await api.get("/v1/entities/top", params={"since": since, "limit": 1})
        assert recent.json() == {"items": [{"name": "FIFA", "type": "ORG", "articles": 2}]}

        _bad_parameter(await api.get("/v1/entities/top", params={"limit": 0}), "limit")
        _bad_parameter(await api.get("/v1/entities/top", params={"since": "yesterday"}), "since")


async def test_topic_counts_overall_and_per_interval(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    await _store(settings, DOCS)
    async with serve(settings) as api:
        overall = await api.get("/v1/topics/counts")
        assert overall.json() == {
            "items": [
                {"slug": "sport", "label": "sport", "articles": 3},
                {"slug": "politics-and-government", "label": POLITICS[1], "articles": 2},
            ]
        }
        hourly = await api.get(
            "/v1/topics/counts", params={"since": "2024-05-01T00:00:00", "interval": "hour"}
        )
        assert hourly.json()["items"] == [
            {"bucket": "2024-05-01T10:00:00Z", "slug": "politics-and-government",
             "label": POLITICS[1], "articles": 1},
            {"bucket": "2024-05-01T10:00:00Z", "slug": "sport", "label": "sport", "articles": 1},
            {"bucket": "2024-05-01T12:00:00Z", "slug": "politics-and-government",
             "label": POLITICS[1], "articles": 1},
            {"bucket": "2024-05-01T12:00:00Z", "slug": "sport", "label": "sport", "articles": 1},
            {"bucket": "2024-05-02T10:00:00Z", "slug": "sport", "label": "sport", "articles": 1},
        ]  # fmt: skip
        daily = await api.get(
            "/v1/topics/counts", params={"since": T0.isoformat(), "interval": "day"}
        )
        assert daily.json()["items"] == [
            {"bucket": "2024-05-01T00:00:00Z", "slug": "politics-and-government",
             "label": POLITICS[1], "articles": 2},
            {"bucket": "2024-05-01T00:00:00Z", "slug": "sport", "label": "sport", "articles": 2},
            {"bucket": "2024-05-02T00:00:00Z", "slug": "sport", "label": "sport", "articles": 1},
        ]  # fmt: skip
        _bad_parameter(await api.get("/v1/topics/counts", params={"interval": "week"}), "interval")


async def test_docs_open_in_a_browser_and_take_the_key_data_stays_behind_it(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    keyed = settings.model_copy(update={"api_key": "s3cret"})
    async with serve(keyed) as api:
        # A browser opens the description without a key, and enters the key there.
        docs = await api.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        spec = await api.get("/openapi.json")
        assert spec.status_code == 200
        assert spec.json()["components"]["securitySchemes"]["ApiKey"] == {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
        }
        assert spec.json()["security"] == [{"ApiKey": []}]
        # Data stays behind the key.
        assert (await api.get("/v1/entities/top")).status_code == 401
        assert (await api.get("/v1/topics/counts")).status_code == 401
        paths = spec.json()["paths"]
        assert {"/v1/search", "/v1/entities/top", "/v1/topics/counts"} <= set(paths)
        search_params = {p["name"] for p in paths["/v1/search"]["get"]["parameters"]}
        assert "sort" in search_params
        counts_params = {p["name"] for p in paths["/v1/topics/counts"]["get"]["parameters"]}
        assert counts_params == {"since", "interval"}


def test_cli_search_sort_relevance(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    asyncio.run(_store(settings, DOCS))
    monkeypatch.setattr(tools, "get_settings", lambda: settings)

    def search(*argv: str) -> tuple[int, list[str], str]:
        code = cli.main(["search", *argv])
        captured = capsysbinary.readouterr()
        found = [orjson.loads(line)["id"] for line in captured.out.splitlines()]
        return code, found, captured.err.decode()

    assert search("--q", "budget vote", "--json") == (0, ["d3", "d2", "d1"], "")
    code, found, err = search("--q", "budget vote", "--sort", "relevance", "--json")
    assert (code, found[0], sorted(found), err) == (0, "d1", ["d1", "d2", "d3"], "")
    code, _, err = search("--sort", "relevance")
    assert code == 2 and "sort" in err
