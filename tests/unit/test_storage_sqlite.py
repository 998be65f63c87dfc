"""Storage contract tests, plus SQLite specifics.

The first part talks only to the ``Storage`` protocol through ``open_storage`` and
the ``storage`` fixture, and runs once per backend in ``BACKENDS``: SQLite in a
temporary file, PostgreSQL in a fresh schema of the run's own database (see
``tests/unit/conftest.py``; skipped, with the reason, when no server answers).
The second part checks what only SQLite has (the file, its schema version,
locking, the FTS index); test_storage_postgres.py has PostgreSQL's.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import sqlite3
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.errors import RetryableError
from shared.models import EnrichedArticle, Entity, Mention, Provenance, Topic
from shared.storage import PostgresStorage, SearchQuery, SQLiteStorage, Storage, open_storage
from shared.storage import sqlite as sqlite_storage
from shared.storage.sqlite import (
    SCHEMA_VERSION,
    decode_cursor,
    encode_cursor,
    fts_match_expression,
)
from shared.streams import slugify

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

POLITICS = ("medtop:11000000", "politics")
ENVIRONMENT = ("medtop:06000000", "environment")
SPORT = ("medtop:15000000", "sport")
SCIENCE = ("medtop:13000000", "science and technology")


# -- article factory -------------------------------------------------------------


def make_article(
    article_id: str,
    *,
    title: str = "An ordinary day",
    body: str = "Nothing much happened anywhere today.",
    source: str | None = "Wire A",
    language: str | None = "en",
    published_at: datetime | None = T0,
    received_at: datetime | None = None,
    entities: Sequence[tuple[str, str]] = (),
    topics: Sequence[tuple[str, str]] = (),
    keywords: Sequence[str] = (),
) -> EnrichedArticle:
    """An EnrichedArticle as the enricher would emit it.

    ``entities`` are ``(name, type)``; each gets a mention where the name occurs in
    the title or body. ``topics`` are ``(qcode, label)``.
    """
    received = received_at or (published_at or T0) + timedelta(minutes=5)
    built_entities = []
    for index, (name, type_) in enumerate(entities):
        mentions = []
        for field, text in (("title", title), ("body", body)):
            start = text.find(name)
            if start >= 0:
                mentions.append(Mention(field=field, start=start, end=start + len(name), text=name))
        built_entities.append(
            Entity(
                name=name,
                type=type_,
                salience=round(1.0 / (index + 1), 3),
                mention_count=max(len(mentions), 1),
                surface_forms=[name],
                mentions=mentions,
            )
        )
    return EnrichedArticle(
        id=article_id,
        title=title,
        body=body,
        url=f"https://news.example/{article_id}",
        canonical_url=f"https://news.example/{article_id}",
        source=source,
        language=language,
        published_at=published_at,
        received_at=received,
        content_hash=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
        word_count=len(body.split()),
        entities=built_entities,
        topics=[
            Topic(qcode=qcode, label=label, slug=slugify(label), relevance=0.8)
            for qcode, label in topics
        ],
        keywords=list(keywords),
        provenance=Provenance(
            newsflow_version="0.1.0",
            ner_model="en_core_web_sm-3.8.0",
            taxonomy="iptc-mediatopic-2024-10",
            enriched_at=received + timedelta(seconds=2),
        ),
    )


def corpus() -> list[EnrichedArticle]:
    """Four articles a day apart, the last with no published_at."""
    return [
        make_article(
            "a1",
            title="Parliament votes on climate bill",
            body=(
                "Angela Merkel spoke in Berlin near the chancellery before the vote "
                "on the climate bill, and the opposition walked out."
            ),
            source="Wire A",
            language="en",
            published_at=T0,
            entities=[("Angela Merkel", "PERSON"), ("Berlin", "GPE")],
            topics=[POLITICS, ENVIRONMENT],
        ),
        make_article(
            "a2",
            title="Zürich hosts the football final",
            body="FIFA officials flew from Berlin to Zürich for the final on Sunday.",
            source="Wire B",
            language="de",
            published_at=T0 + timedelta(days=1),
            entities=[("FIFA", "ORG"), ("Zürich", "GPE"), ("Berlin", "GPE")],
            topics=[SPORT],
        ),
        make_article(
            "a3",
            title="Elections in France",
            body=(
                "Emmanuel Macron called early elections; Angela Merkel, asked in "
                "Berlin, declined to comment."
            ),
            source="Wire A",
            language="en",
            published_at=T0 + timedelta(days=2),
            entities=[
                ("Emmanuel Macron", "PERSON"),
                ("Angela Merkel", "PERSON"),
                ("Berlin", "GPE"),
            ],
            topics=[POLITICS],
        ),
        make_article(
            "a4",
            title="Database humour",
            body=(
                'Engineers still laugh at "drop table" jokes; the articles table '
                "survived, said Bobby Tables in BERLIN."
            ),
            source="Wire B",
            language="en",
            published_at=None,
            received_at=T0 + timedelta(days=3),
            entities=[("Bobby Tables", "PERSON"), ("BERLIN", "GPE")],
            topics=[SCIENCE],
        ),
    ]


def ids(articles: Sequence[EnrichedArticle]) -> list[str]:
    return [article.id for article in articles]


async def search_ids(storage: Storage, **filters: object) -> list[str]:
    page = await storage.search(SearchQuery.model_validate(filters))
    return ids(page.items)


async def walk(storage: Storage, **filters: object) -> list[list[str]]:
    """Every page of a search, following next_cursor to the end."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await storage.search(SearchQuery.model_validate({**filters, "cursor": cursor}))
        pages.append(ids(page.items))
        if page.next_cursor is None:
            return pages
        assert len(pages) < 1000, "pagination does not end"
        cursor = page.next_cursor


# -- backends --------------------------------------------------------------------

# Every contract test below runs against each of these.
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A DATABASE_URL of an empty store of the backend, the same for the whole test."""
    if request.param == "sqlite":
        # tmp_path is absolute, so this is the four-slash form; "db/" does not exist yet.
        return f"sqlite:///{tmp_path / 'db' / 'newsflow.db'}"
    if request.param == "postgresql":
        # Skips every PostgreSQL case, with the reason, when no server answers.
        return str(request.getfixturevalue("postgres_schema_url"))
    raise AssertionError(f"unknown backend {request.param}")


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    store = open_storage(storage_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def loaded(storage: Storage) -> Storage:
    assert await storage.upsert_many(corpus()) == 4
    return storage


# -- contract: writes ------------------------------------------------------------


async def test_upsert_then_get_round_trips_the_whole_document(storage: Storage) -> None:
    article = make_article(
        "full",
        title="Storm hits Lisbon",
        body="Lisbon was hit by a storm; the Portuguese government met in Lisbon.",
        source="Agência",
        language="pt-br",
        published_at=datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
        entities=[("Lisbon", "GPE"), ("Portuguese", "NORP")],
        topics=[ENVIRONMENT, ("medtop:17000000", "weather")],
        keywords=["storm", "lisbon"],
    )
    article.entities[0].country_code = "PT"
    article.entities[0].latitude = 38.7223
    article.entities[0].longitude = -9.1393
    article.entities[0].geonames_id = 2267057
    article.authors = ["Ana Silva", "João Sousa"]
    article.section = "Weather"
    article.external_id = "ext-42"

    assert await storage.upsert_many([article]) == 1

    stored = await storage.get("full")
    assert stored == article
    assert stored is not None
    assert stored.entities[0].mentions[0].text == "Lisbon"
    assert await storage.get("missing") is None


async def test_empty_batch_writes_nothing(storage: Storage) -> None:
    assert await storage.upsert_many([]) == 0
    assert await storage.count() == 0


async def test_writing_a_batch_twice_leaves_one_copy_of_everything(storage: Storage) -> None:
    batch = corpus()
    assert await storage.upsert_many(batch) == 4
    assert await storage.upsert_many(batch) == 4

    assert await storage.count() == 4
    assert await search_ids(storage, entity="Angela Merkel") == ["a3", "a1"]
    assert await search_ids(storage, topic="politics") == ["a3", "a1"]
    assert await search_ids(storage, q="climate") == ["a1"]
    counts = {(name, type_): n for name, type_, n in await storage.top_entities(None, 50)}
    assert counts[("Angela Merkel", "PERSON")] == 2
    assert {slug: n for slug, _, n in await storage.topic_counts(None)}["politics"] == 2


async def test_same_id_twice_in_one_batch_keeps_the_last(storage: Storage) -> None:
    first = make_article("dup", title="First draft", entities=[("Alpha Corp", "ORG")])
    second = make_article("dup", title="Final version", entities=[("Beta Corp", "ORG")])

    assert await storage.upsert_many([first, second]) == 1

    assert await storage.count() == 1
    assert await storage.get("dup") == second
    assert await search_ids(storage, entity="alpha corp") == []
    assert await search_ids(storage, entity="beta corp") == ["dup"]


async def test_new_version_replaces_the_old_one_everywhere(loaded: Storage) -> None:
    updated = make_article(
        "a1",
        title="Senate rejects pension reform",
        body="Olaf Scholz conceded defeat on the pension reform in Bonn.",
        source="Wire C",
        language="en",
        published_at=T0,
        entities=[("Olaf Scholz", "PERSON")],
        topics=[("medtop:04000000", "economy, business and finance")],
    )

    assert await loaded.upsert_many([updated]) == 1

    assert await loaded.count() == 4
    assert await loaded.get("a1") == updated
    # Old title, body, entities and topic no longer find it...
    assert await search_ids(loaded, q="climate") == []
    assert await search_ids(loaded, q="chancellery") == []
    assert await search_ids(loaded, entity="Angela Merkel") == ["a3"]
    assert await search_ids(loaded, topic="environment") == []
    assert await search_ids(loaded, topic="politics") == ["a3"]
    assert await search_ids(loaded, source="Wire A") == ["a3"]
    # ...and the new ones do.
    assert await search_ids(loaded, q="pension") == ["a1"]
    assert await search_ids(loaded, q="Bonn") == ["a1"]
    assert await search_ids(loaded, entity="olaf scholz") == ["a1"]
    assert await search_ids(loaded, topic="economy-business-and-finance") == ["a1"]
    assert await search_ids(loaded, topic="medtop:04000000") == ["a1"]
    assert await search_ids(loaded, source="Wire C") == ["a1"]


async def test_a_batch_of_1000_articles_in_one_upsert(storage: Storage) -> None:
    batch = [
        make_article(
            f"bulk-{i:04d}",
            title=f"Bulk story {i}",
            body=f"Story number {i} about Acme Industries.",
            published_at=T0 + timedelta(minutes=i),
            entities=[("Acme Industries", "ORG")],
            topics=[SCIENCE],
        )
        for i in range(1000)
    ]

    assert await storage.upsert_many(batch) == 1000

    assert await storage.count() == 1000
    assert await storage.get("bulk-0999") == batch[999]
    assert await storage.top_entities(None, 1) == [("Acme Industries", "ORG", 1000)]
    assert await storage.topic_counts(None) == [
        ("science-and-technology", "science and technology", 1000)
    ]
    pages = await walk(storage, entity="acme industries", limit=500)
    assert [len(page) for page in pages] == [500, 500]


async def test_concurrent_calls_from_many_tasks_are_serialized(storage: Storage) -> None:
    batches = [
        [make_article(f"t{task}-{i}", published_at=T0 + timedelta(seconds=i)) for i in range(20)]
        for task in range(10)
    ]

    results = await asyncio.gather(
        *(storage.upsert_many(batch) for batch in batches),
        *(storage.search(SearchQuery(limit=5)) for _ in range(10)),
        *(storage.count() for _ in range(10)),
    )

    assert results[:10] == [20] * 10
    assert await storage.count() == 200


# -- contract: search ------------------------------------------------------------


async def test_search_without_filters_is_newest_first(loaded: Storage) -> None:
    # a4 has no published_at: its received_at (the latest) places it.
    assert await search_ids(loaded) == ["a4", "a3", "a2", "a1"]


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("politics", ["a3", "a1"]),
        ("medtop:11000000", ["a3", "a1"]),
        ("sport", ["a2"]),
        ("medtop:15000000", ["a2"]),
        ("science-and-technology", ["a4"]),
        ("Politics", ["a3", "a1"]),
        ("economy", []),
        ("medtop:99999999", []),
    ],
)
async def test_search_by_topic_slug_or_qcode(
    loaded: Storage, topic: str, expected: list[str]
) -> None:
    assert await search_ids(loaded, topic=topic) == expected


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ("Angela Merkel", ["a3", "a1"]),
        ("angela merkel", ["a3", "a1"]),
        ("ANGELA MERKEL", ["a3", "a1"]),
        ("zürich", ["a2"]),
        ("Berlin", ["a4", "a3", "a2", "a1"]),  # "BERLIN" in a4 too
        ("Merkel", ["a3", "a1"]),  # a person's surname
        ("Angela", []),  # whole names or a person's surname, never another word
    ],
)
async def test_search_by_entity_is_exact_but_case_insensitive(
    loaded: Storage, entity: str, expected: list[str]
) -> None:
    assert await search_ids(loaded, entity=entity) == expected


def aliased(article_id: str, body: str, *entities: tuple[str, str, list[str]]) -> EnrichedArticle:
    """An article whose entities are ``(canonical name, type, surface forms)``."""
    article = make_article(
        article_id, body=body, entities=[(name, type_) for name, type_, _ in entities]
    )
    for entity, (_, _, forms) in zip(article.entities, entities, strict=True):
        entity.surface_forms = forms
    return article


def alias_corpus() -> list[EnrichedArticle]:
    return [
        aliased(
            "t1",
            "Donald Trump said on Monday that tariffs would rise. Trump spoke in Zürich.",
            ("Donald Trump", "PERSON", ["Donald Trump", "Trump"]),
            ("Zürich", "GPE", ["Zürich"]),
        ),
        aliased(
            "t2",
            "Donald Trump met the U.S. trade envoy.",
            ("Donald Trump", "PERSON", ["Donald Trump"]),
            ("United States", "GPE", ["U.S."]),
        ),
        aliased(
            "t3",
            "Melania Trump opened an exhibition.",
            ("Melania Trump", "PERSON", ["Melania Trump"]),
        ),
    ]


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        # A person's surname finds every person of that name (the full name narrows).
        ("Trump", ["t3", "t2", "t1"]),
        ("trump", ["t3", "t2", "t1"]),
        ("TRUMP", ["t3", "t2", "t1"]),
        ("Donald Trump", ["t2", "t1"]),
        ("donald trump", ["t2", "t1"]),
        ("Zurich", ["t1"]),  # accents folded
        ("zürich", ["t1"]),
        ("US", ["t2"]),  # dots folded: the article wrote "U.S."
        ("u.s.", ["t2"]),
        ("United States", ["t2"]),
        ("Melania", []),  # whole names only, never a word of one
        ("Trum", []),
    ],
)
async def test_search_by_entity_finds_every_name_the_article_used(
    storage: Storage, entity: str, expected: list[str]
) -> None:
    await storage.upsert_many(alias_corpus())
    assert await search_ids(storage, entity=entity) == expected


async def test_top_entities_stay_by_canonical_name(storage: Storage) -> None:
    await storage.upsert_many(alias_corpus())

    top = await storage.top_entities(None, 10)

    names = [name for name, _, _ in top]
    assert top[0] == ("Donald Trump", "PERSON", 2)
    assert "Trump" not in names and "U.S." not in names
    assert sorted(names) == ["Donald Trump", "Melania Trump", "United States", "Zürich"]


async def test_a_new_version_drops_the_old_surface_forms(storage: Storage) -> None:
    await storage.upsert_many(alias_corpus())
    rewritten = aliased(
        "t1",
        "Donald Trump said on Monday that tariffs would rise.",
        ("Donald Trump", "PERSON", ["Donald Trump"]),
    )

    await storage.upsert_many([rewritten])

    assert await search_ids(storage, entity="Zurich") == []  # no longer named
    assert await search_ids(storage, entity="Donald Trump") == ["t2", "t1"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("climate", ["a1"]),
        ("CLIMATE Bill", ["a1"]),  # every word, any case
        ("climate football", []),
        ("parliament", ["a1"]),  # title words count
        ("elect*", ["a3"]),  # prefix
        ("election", ["a3"]),  # English inflections: "elections"
        ("Elections", ["a3"]),
        ("elect", []),  # but not other words of the same root
        ("voting", ["a1"]),  # "vote" and "votes"
        ("zurich", ["a2"]),  # diacritics folded
        ("Zürich", ["a2"]),
        ("berlin", ["a4", "a3", "a2", "a1"]),
    ],
)
async def test_full_text_search(loaded: Storage, q: str, expected: list[str]) -> None:
    assert await search_ids(loaded, q=q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"climate', ["a1"]),
        ('climate"', ["a1"]),
        ('"climate bill"', ["a1"]),
        ('"', []),
        ('""', []),
        ("climate AND bill", ["a1"]),  # AND is what a space means
        ("climate OR football", ["a2", "a1"]),
        ("climate or football", []),  # lower-case "or" is a word, in neither
        ("climate NOT bill", []),
        ("berlin -climate", ["a4", "a3", "a2"]),
        ("berlin NOT football -comment", ["a4", "a1"]),
        ('"vote on the climate bill"', ["a1"]),
        ('"the climate vote"', []),
        ("NEAR( climate", ["a1"]),  # a1 says "near the chancellery"
        ("NEAR(climate bill, 5)", []),
        ("climate*", ["a1"]),
        ("*", []),
        ("**climate", ["a1"]),
        ("^climate", ["a1"]),
        ("title:climate", []),  # not a column filter: the phrase "title climate"
        ("bill)", ["a1"]),
        ("(climate", ["a1"]),
        ("'; DROP TABLE articles; --", ["a4"]),  # a4's body has drop, table, articles
        ("--", []),
        ("; --", []),
        ("{title body}: climate", []),
        ("Robert'); DELETE FROM articles; --", []),
    ],
)
async def test_full_text_takes_query_syntax_as_plain_words(
    loaded: Storage, q: str, expected: list[str]
) -> None:
    assert await search_ids(loaded, q=q) == expected
    # Nothing was executed as SQL or FTS syntax: everything is still there.
    assert await loaded.count() == 4
    assert await search_ids(loaded) == ["a4", "a3", "a2", "a1"]


@pytest.mark.parametrize("field", ["q", "entity", "topic", "source"])
@pytest.mark.parametrize("value", ["climate\x00bill", "climate\ud800"])
def test_nul_and_lone_surrogates_are_rejected_by_name(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        SearchQuery.model_validate({field: value})


async def test_since_is_inclusive_and_until_exclusive(loaded: Storage) -> None:
    assert await search_ids(loaded, since=T0 + timedelta(days=1)) == ["a4", "a3", "a2"]
    assert await search_ids(loaded, until=T0 + timedelta(days=2)) == ["a2", "a1"]
    assert await search_ids(loaded, since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)) == [
        "a2"
    ]
    assert await search_ids(loaded, since=T0 + timedelta(days=10)) == []
    # Naive is UTC; other zones are converted.
    assert await search_ids(loaded, since=datetime(2024, 5, 3, 10, 0)) == ["a4", "a3"]
    plus_two = timezone(timedelta(hours=2))
    assert await search_ids(loaded, until=datetime(2024, 5, 2, 12, 0, tzinfo=plus_two)) == ["a1"]


async def test_search_by_source_and_language(loaded: Storage) -> None:
    assert await search_ids(loaded, source="Wire A") == ["a3", "a1"]
    assert await search_ids(loaded, source="Wire B") == ["a4", "a2"]
    assert await search_ids(loaded, source="wire a") == ["a3", "a1"]  # any case
    assert await search_ids(loaded, source="WIRE B") == ["a4", "a2"]
    assert await search_ids(loaded, source="Wire") == []  # the whole name
    assert await search_ids(loaded, language="de") == ["a2"]
    assert await search_ids(loaded, language="en") == ["a4", "a3", "a1"]
    assert await search_ids(loaded, language="EN") == ["a4", "a3", "a1"]
    assert await search_ids(loaded, language="fr") == []


async def test_blank_filters_count_as_absent(loaded: Storage) -> None:
    assert await search_ids(loaded, topic="", entity=" ", q="", source="") == [
        "a4",
        "a3",
        "a2",
        "a1",
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"topic": "politics", "source": "Wire A", "q": "climate"}, ["a1"]),
        ({"topic": "politics", "entity": "emmanuel macron"}, ["a3"]),
        ({"topic": "politics", "since": T0 + timedelta(days=1)}, ["a3"]),
        ({"entity": "berlin", "language": "en", "until": T0 + timedelta(days=3)}, ["a3", "a1"]),
        ({"entity": "berlin", "source": "Wire B", "q": "final"}, ["a2"]),
        ({"entity": "berlin", "topic": "sport", "language": "en"}, []),
        ({"q": "berlin", "topic": "science-and-technology", "source": "Wire B"}, ["a4"]),
    ],
)
async def test_filters_are_anded(
    loaded: Storage, filters: dict[str, object], expected: list[str]
) -> None:
    assert await search_ids(loaded, **filters) == expected


async def test_pagination_walks_every_result_once_in_order(storage: Storage) -> None:
    # Three articles share each timestamp, so ties are broken by id across pages.
    articles = [
        make_article(
            f"p{i:03d}",
            published_at=T0 + timedelta(hours=i // 3),
            source="Wire A" if i % 2 else "Wire B",
        )
        for i in range(25)
    ]
    random.Random(7).shuffle(articles)
    await storage.upsert_many(articles)
    newest_first = sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)

    pages = await walk(storage, limit=7)
    assert [len(page) for page in pages] == [7, 7, 7, 4]
    assert [article_id for page in pages for article_id in page] == ids(newest_first)

    pages = await walk(storage, source="Wire A", limit=4)
    expected = [a.id for a in newest_first if a.source == "Wire A"]
    assert [article_id for page in pages for article_id in page] == expected
    assert [len(page) for page in pages] == [4, 4, 4]  # no empty page after a full one


@pytest.mark.parametrize("probed", [5_000, 10])
async def test_full_text_pages_are_newest_first_for_common_and_rare_words(
    storage: Storage, probed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite tests the newest candidates first, up to a bound, then lists every
    # match: both ways give the same pages.
    monkeypatch.setattr(sqlite_storage, "_MAX_PROBED", probed)
    # "common" in two of every three articles (a page is found among the newest
    # few), "rare" in two old ones (every match is listed), within a topic too.
    articles = [
        make_article(
            f"w{i:02d}",
            body=" ".join(
                ["common"] * (i % 3 != 0) + ["rare"] * (i in (3, 7)) + ["filler text here"]
            ),
            published_at=T0 + timedelta(hours=i),
            topics=[POLITICS] if i % 2 else [SPORT],
        )
        for i in range(90)
    ]
    await storage.upsert_many(articles)
    newest_first = [a.id for a in reversed(articles)]
    common = [i for i in newest_first if int(i[1:]) % 3 != 0]

    async def every(**filters: object) -> list[str]:
        return [i for page in await walk(storage, **filters) for i in page]

    assert await every(q="common", limit=7) == common
    assert await walk(storage, q="rare", limit=1) == [["w07"], ["w03"]]
    political = [i for i in common if int(i[1:]) % 2]
    assert await every(q="common", topic="politics", limit=4) == political
    assert await every(q="common -rare", limit=50) == [i for i in common if i != "w07"]


async def test_pagination_is_stable_when_newer_articles_arrive(storage: Storage) -> None:
    await storage.upsert_many(
        [make_article(f"s{i}", published_at=T0 + timedelta(hours=i)) for i in range(6)]
    )
    first = await storage.search(SearchQuery(limit=3))
    assert ids(first.items) == ["s5", "s4", "s3"]

    await storage.upsert_many([make_article("newer", published_at=T0 + timedelta(days=9))])
    second = await storage.search(SearchQuery(limit=3, cursor=first.next_cursor))

    assert ids(second.items) == ["s2", "s1", "s0"]
    assert second.next_cursor is None


async def test_limit_bounds_the_page(loaded: Storage) -> None:
    one = await loaded.search(SearchQuery(limit=1))
    assert ids(one.items) == ["a4"]
    assert one.next_cursor is not None

    everything = await loaded.search(SearchQuery(limit=500))
    assert len(everything.items) == 4
    assert everything.next_cursor is None

    exact = await loaded.search(SearchQuery(limit=4))
    assert len(exact.items) == 4
    assert exact.next_cursor is None

    for bad in (0, -1, 501):
        with pytest.raises(ValidationError, match="limit"):
            SearchQuery(limit=bad)


@pytest.mark.parametrize("cursor", ["not-a-cursor", "!!!", "e30", "WzEsMl0"])
async def test_a_foreign_cursor_is_a_value_error_naming_cursor(
    loaded: Storage, cursor: str
) -> None:
    with pytest.raises(ValueError, match="cursor"):
        await loaded.search(SearchQuery(cursor=cursor))


async def test_top_entities_counts_articles(loaded: Storage) -> None:
    top = await loaded.top_entities(None, 3)

    assert [(name.casefold(), type_, n) for name, type_, n in top] == [
        ("berlin", "GPE", 4),  # "Berlin" x3 and "BERLIN" x1 are one entity
        ("angela merkel", "PERSON", 2),
        ("bobby tables", "PERSON", 1),  # ties break by name
    ]
    recent = await loaded.top_entities(T0 + timedelta(days=2), 10)
    assert [(name.casefold(), type_, n) for name, type_, n in recent] == [
        ("berlin", "GPE", 2),
        ("angela merkel", "PERSON", 1),
        ("bobby tables", "PERSON", 1),
        ("emmanuel macron", "PERSON", 1),
    ]
    assert await loaded.top_entities(T0 + timedelta(days=30), 10) == []


async def test_topic_counts(loaded: Storage) -> None:
    assert await loaded.topic_counts(None) == [
        ("politics", "politics", 2),
        ("environment", "environment", 1),
        ("science-and-technology", "science and technology", 1),
        ("sport", "sport", 1),
    ]
    assert await loaded.topic_counts(T0 + timedelta(days=1)) == [
        ("politics", "politics", 1),
        ("science-and-technology", "science and technology", 1),
        ("sport", "sport", 1),
    ]


async def test_topic_counts_by_hour_and_day(storage: Storage) -> None:
    await storage.upsert_many(
        [
            make_article("h1", published_at=T0 + timedelta(minutes=5), topics=[POLITICS]),
            make_article("h2", published_at=T0 + timedelta(minutes=55), topics=[POLITICS, SPORT]),
            make_article("h3", published_at=T0 + timedelta(hours=1, minutes=1), topics=[SPORT]),
            make_article("h4", published_at=T0 + timedelta(days=1), topics=[SPORT]),
        ]
    )
    assert await storage.topic_counts_by_interval(None, "hour") == [
        ("2024-05-01T10:00:00Z", "politics", "politics", 2),
        ("2024-05-01T10:00:00Z", "sport", "sport", 1),
        ("2024-05-01T11:00:00Z", "sport", "sport", 1),
        ("2024-05-02T10:00:00Z", "sport", "sport", 1),
    ]
    assert await storage.topic_counts_by_interval(None, "day") == [
        ("2024-05-01T00:00:00Z", "politics", "politics", 2),
        ("2024-05-01T00:00:00Z", "sport", "sport", 2),
        ("2024-05-02T00:00:00Z", "sport", "sport", 1),
    ]
    assert await storage.topic_counts_by_interval(T0 + timedelta(hours=1), "day") == [
        ("2024-05-01T00:00:00Z", "sport", "sport", 1),
        ("2024-05-02T00:00:00Z", "sport", "sport", 1),
    ]
    with pytest.raises(ValueError, match="interval"):
        await storage.topic_counts_by_interval(None, "week")  # type: ignore[arg-type]


async def test_relevance_ranks_the_best_match_first(storage: Storage) -> None:
    await storage.upsert_many(
        [
            make_article(
                "r-best",
                title="Glacier melt: glacier scientists warn",
                body="The glacier lost mass; every glacier in the range melt faster, melt again.",
                published_at=T0,
            ),
            make_article(
                "r-once",
                title="Weekly roundup",
                body="Among other news, one glacier showed some melt this spring.",
                published_at=T0 + timedelta(days=2),
            ),
            make_article(
                "r-other",
                title="Markets",
                body="Stocks rose; glacier tourism and ice melt were not discussed much.",
                published_at=T0 + timedelta(days=1),
            ),
            make_article("r-none", title="Glacier", body="No other word here.", published_at=T0),
        ]
    )
    by_time = await search_ids(storage, q="glacier melt")
    assert by_time == ["r-once", "r-other", "r-best"]
    by_relevance = await search_ids(storage, q="glacier melt", sort="relevance")
    assert by_relevance[0] == "r-best"
    assert sorted(by_relevance) == sorted(by_time)


async def test_relevance_pagination_returns_every_match_once(storage: Storage) -> None:
    articles = [
        make_article(
            f"rp{i:02d}",
            title="Storm" if i % 3 == 0 else "Weather",
            body=" ".join(["storm"] * (1 + i % 5)) + " hit the coast" + (" again" * i),
            published_at=T0 + timedelta(hours=i // 4),
        )
        for i in range(23)
    ]
    await storage.upsert_many([*articles, make_article("calm", body="A calm day.")])
    whole = await search_ids(storage, q="storm", sort="relevance", limit=100)
    pages = await walk(storage, q="storm", sort="relevance", limit=5)
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [article_id for page in pages for article_id in page] == whole
    assert sorted(whole) == sorted(a.id for a in articles)


async def test_relevance_ties_are_newest_first_across_pages(storage: Storage) -> None:
    same = [
        make_article(f"t{i:02d}", body="A glacier report.", published_at=T0 + timedelta(hours=i))
        for i in range(12)
    ]
    best = make_article("best", title="Glacier", body="Glacier glacier glacier.")
    await storage.upsert_many([*same, best])
    pages = await walk(storage, q="glacier", sort="relevance", limit=5)
    assert [i for page in pages for i in page] == ["best", *(a.id for a in reversed(same))]


async def test_relevance_needs_q_and_its_own_cursors(storage: Storage) -> None:
    await storage.upsert_many([make_article(f"c{i}", body="storm") for i in range(3)])
    with pytest.raises(ValueError, match="sort"):
        await storage.search(SearchQuery(sort="relevance"))
    time_page = await storage.search(SearchQuery(q="storm", limit=1))
    rel_page = await storage.search(SearchQuery(q="storm", limit=1, sort="relevance"))
    assert time_page.next_cursor is not None and rel_page.next_cursor is not None
    with pytest.raises(ValueError, match="cursor"):
        await storage.search(SearchQuery(q="storm", sort="relevance", cursor=time_page.next_cursor))
    with pytest.raises(ValueError, match="cursor"):
        await storage.search(SearchQuery(q="storm", cursor=rel_page.next_cursor))
    with pytest.raises(ValidationError):
        SearchQuery.model_validate({"q": "storm", "sort": "best"})


async def test_data_survives_close_and_reopen(storage_url: str) -> None:
    url = storage_url
    first = open_storage(url)
    await first.open()
    await first.upsert_many(corpus())
    await first.close()
    await first.close()  # harmless

    second = open_storage(url)
    await second.open()
    try:
        assert await second.count() == 4
        assert await second.get("a2") == corpus()[1]
    finally:
        await second.close()


async def test_any_free_text_query_is_safe(loaded: Storage) -> None:
    """Whatever a user types into q, search answers, or refuses it with a ValueError
    naming q (a query that only excludes), never with a backend error."""
    loop = asyncio.get_running_loop()

    # Any text SearchQuery accepts: it refuses NUL and lone surrogates, which
    # test_nul_and_lone_surrogates_are_rejected_by_name covers.
    @settings(max_examples=300, database=None, deadline=None, derandomize=True)
    @given(q=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=200))
    def check(q: str) -> None:
        # Hypothesis drives a plain function; it runs in a thread and hands each
        # search to the test's event loop.
        try:
            asyncio.run_coroutine_threadsafe(loaded.search(SearchQuery(q=q)), loop).result()
        except ValueError as exc:
            assert str(exc).startswith("q: needs at least one word"), exc

    await asyncio.to_thread(check)
    assert await loaded.count() == 4


# -- open_storage and URLs -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:secret@db/newsflow",
        "postgres://db/newsflow",
        "POSTGRESQL://u:secret@db:6543/newsflow?sslmode=require",
    ],
)
def test_postgresql_urls_give_a_postgres_storage_that_never_shows_the_password(url: str) -> None:
    store = open_storage(url)  # parsing only: nothing connects before open()
    assert isinstance(store, PostgresStorage)
    assert "db" in repr(store)
    assert "secret" not in repr(store)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:secret@db/x",
        "newsflow.db",
        "",
        "sqlite://relative.db",
        "sqlite:///",
        "postgresql+psycopg://u:secret@db/x",
        "postgresql://u:pa%zzsecret@db/x",  # libpq would quote the bad password back
        "postgresql://u:secret@db/x?sslmod=require",  # unknown parameter
    ],
)
def test_other_urls_are_value_errors_naming_database_url(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as info:
        open_storage(url)
    assert "secret" not in str(info.value)


# -- SQLite specifics ------------------------------------------------------------


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _back_to_version_3(conn: sqlite3.Connection) -> None:
    """The file as newsflow before the rollups and time walks left it: version 3."""
    for index in ("article_topics_slug_time", "article_topics_qcode_time"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("DROP INDEX article_entity_names_time")
    conn.execute("ALTER TABLE article_topics DROP COLUMN sort_at")
    conn.execute("ALTER TABLE article_entity_names DROP COLUMN sort_at")
    conn.execute("DROP TABLE topic_hour_counts")
    conn.execute("DROP TABLE topic_day_counts")
    conn.execute("DROP TABLE topic_counts")
    conn.execute("CREATE INDEX article_topics_slug ON article_topics (slug, article_id)")
    conn.execute("CREATE INDEX article_topics_qcode ON article_topics (qcode, article_id)")
    conn.execute(
        "CREATE INDEX article_entity_names_key ON article_entity_names (name_key, article_id)"
    )
    conn.execute("PRAGMA user_version = 3")


async def test_sqlite_creates_the_directory_and_a_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "newsflow.db"
    store = open_storage(f"sqlite:///{path}")
    assert isinstance(store, SQLiteStorage)
    await store.open()
    await store.open()  # opening twice is harmless
    await store.close()

    conn = _raw(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert {
            "articles",
            "article_entities",
            "article_entity_names",
            "article_topics",
            "articles_fts",
        } <= tables
    finally:
        conn.close()


async def test_sqlite_relative_url_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_storage("sqlite:///data/newsflow.db")
    await store.open()
    await store.close()
    assert (tmp_path / "data" / "newsflow.db").is_file()


async def test_sqlite_in_memory_url_works() -> None:
    store = open_storage("sqlite:///:memory:")
    await store.open()
    try:
        await store.upsert_many(corpus())
        assert await search_ids(store, topic="politics", q="climate") == ["a1"]
    finally:
        await store.close()


async def test_sqlite_calls_before_open_raise() -> None:
    store = SQLiteStorage(":memory:")
    with pytest.raises(RuntimeError, match="not open"):
        await store.count()


async def test_sqlite_rewrites_leave_child_rows_and_fts_consistent(tmp_path: Path) -> None:
    path = tmp_path / "newsflow.db"
    store = SQLiteStorage(path)
    await store.open()
    try:
        await store.upsert_many(corpus())
        await store.upsert_many(corpus())
        changed = corpus()
        changed[0] = make_article("a1", title="Rewritten", body="Completely new text.")
        await store.upsert_many(changed)
    finally:
        await store.close()

    conn = _raw(path)
    try:
        entities = conn.execute(
            "SELECT article_id, count(*) FROM article_entities GROUP BY article_id"
        ).fetchall()
        assert dict(entities) == {"a2": 3, "a3": 3, "a4": 2}
        topics = conn.execute(
            "SELECT article_id, count(*) FROM article_topics GROUP BY article_id"
        ).fetchall()
        assert dict(topics) == {"a2": 1, "a3": 1, "a4": 1}
        # FTS5 compares its index against the articles table; raises if they differ.
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        assert conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0] == 4
    finally:
        conn.close()


async def test_sqlite_busy_database_raises_retryable_error(tmp_path: Path) -> None:
    path = tmp_path / "newsflow.db"
    store = SQLiteStorage(path, busy_timeout_s=0.05)
    await store.open()
    other = _raw(path)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(RetryableError, match=r"busy|locked"):
            await store.upsert_many(corpus())
        assert await store.count() == 0  # WAL: reading still works
        other.execute("ROLLBACK")

        assert await store.upsert_many(corpus()) == 4  # and the retry succeeds
    finally:
        other.close()
        await store.close()


async def test_sqlite_opens_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "newsflow.db"
    writer = SQLiteStorage(path)
    await writer.open()
    await writer.upsert_many(corpus())
    other = _raw(path)
    try:
        other.execute("BEGIN IMMEDIATE")  # the sink is mid-batch
        reader = SQLiteStorage(path, busy_timeout_s=0.05)
        await reader.open()
        try:
            assert await search_ids(reader, topic="politics") == ["a3", "a1"]
        finally:
            await reader.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
        await writer.close()


async def test_sqlite_migration_2_indexes_the_names_of_stored_articles(tmp_path: Path) -> None:
    path = tmp_path / "newsflow.db"
    store = SQLiteStorage(path)
    await store.open()
    await store.upsert_many(alias_corpus())
    await store.close()
    # The file as newsflow before surface-form search left it: schema version 1.
    conn = _raw(path)
    _back_to_version_3(conn)
    conn.execute("DROP TABLE article_entity_names")
    conn.execute("PRAGMA user_version = 1")
    conn.close()

    store = SQLiteStorage(path)
    await store.open()
    try:
        assert await search_ids(store, entity="Trump") == ["t3", "t2", "t1"]  # surnames (v4)
        assert await search_ids(store, entity="US") == ["t2"]
        assert await search_ids(store, entity="Donald Trump") == ["t2", "t1"]
    finally:
        await store.close()
    conn = _raw(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT article_id FROM article_entity_names"
                " WHERE name_key = 'trump'"
            )
        )
        assert "USING COVERING INDEX article_entity_names_time" in plan
    finally:
        conn.close()


async def test_sqlite_migration_4_builds_the_counts_and_walks_of_stored_articles(
    tmp_path: Path,
) -> None:
    path = tmp_path / "newsflow.db"
    store = SQLiteStorage(path)
    await store.open()
    await store.upsert_many(corpus())
    expected_counts = await store.topic_counts(None)
    expected_hours = await store.topic_counts_by_interval(None, "hour")
    await store.close()
    conn = _raw(path)
    _back_to_version_3(conn)
    # Version 3 indexed no surnames.
    conn.execute("DELETE FROM article_entity_names WHERE name_key = 'merkel'")
    conn.commit()
    conn.close()

    store = SQLiteStorage(path)
    await store.open()
    try:
        assert await store.topic_counts(None) == expected_counts
        assert await store.topic_counts_by_interval(None, "hour") == expected_hours
        assert await search_ids(store, topic="politics") == ["a3", "a1"]
        assert await search_ids(store, entity="Angela Merkel") == ["a3", "a1"]
        assert await search_ids(store, entity="Merkel") == ["a3", "a1"]
        # A rewrite after the migration moves its counts to its new topic and hour.
        await store.upsert_many(
            [make_article("a1", published_at=T0 + timedelta(days=5), topics=[SPORT])]
        )
        assert await store.topic_counts(None) == [
            ("sport", "sport", 2),
            ("politics", "politics", 1),
            ("science-and-technology", "science and technology", 1),
        ]
    finally:
        await store.close()
    conn = _raw(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    finally:
        conn.close()


def _plans(store: SQLiteStorage) -> tuple[list[str], Callable[[], None]]:
    """Every SELECT the store runs from now on, as its EXPLAIN QUERY PLAN text."""
    conn = store._conn
    assert conn is not None
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    plans: list[str] = []

    def explain() -> None:
        conn.set_trace_callback(None)
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
                plans.append(" | ".join(str(row[-1]) for row in rows))

    return plans, explain


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"topic": "politics"}, "article_topics_slug_time (slug=?)"),
        ({"topic": "politics", "since": T0}, "article_topics_slug_time (slug=? AND sort_at>?)"),
        ({"topic": "medtop:11000000"}, "article_topics_qcode_time (qcode=?)"),
        ({"entity": "Berlin"}, "article_entity_names_time (name_key=?)"),
        ({"entity": "Berlin", "until": T0 + timedelta(days=9)}, "article_entity_names_time"),
        ({"source": "wire a"}, "articles_source_nocase (source=?)"),
        ({"language": "en"}, "articles_language (language=?)"),
        ({}, "articles_sort"),
    ],
)
async def test_sqlite_pages_walk_an_index_and_stop_at_the_limit(
    tmp_path: Path, filters: dict[str, Any], index: str
) -> None:
    store = SQLiteStorage(tmp_path / "newsflow.db")
    await store.open()
    try:
        await store.upsert_many(corpus())
        plans, explain = _plans(store)
        first = await store.search(SearchQuery(limit=1, **filters))
        assert first.next_cursor is not None
        await store.search(SearchQuery(limit=1, cursor=first.next_cursor, **filters))
        explain()
    finally:
        await store.close()
    assert plans
    for plan in plans:
        # Newest first along the index: no sort of every match before LIMIT.
        assert "TEMP B-TREE" not in plan, plan
    assert any(index in plan for plan in plans), plans


async def test_sqlite_topic_counts_read_the_rollups(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "newsflow.db")
    await store.open()
    try:
        await store.upsert_many(corpus())
        plans, explain = _plans(store)
        await store.topic_counts(None)
        await store.topic_counts_by_interval(T0 + timedelta(minutes=30), "day")
        explain()
    finally:
        await store.close()
    assert "SCAN topic_counts" in plans[0]
    assert "SEARCH topic_day_counts USING PRIMARY KEY (day>?)" in plans[1]
    assert "SEARCH topic_hour_counts USING PRIMARY KEY (hour>? AND hour<?)" in plans[1]
    # The first, partial hour only, from the base tables.
    assert "SEARCH a USING COVERING INDEX articles_sort (sort_at>? AND sort_at<?)" in plans[2]
    assert not any(re.search(r"\bSCAN (a|t)\b", plan) for plan in plans), plans


async def test_topic_counts_stay_exact_through_rewrites_and_partial_hours(
    storage: Storage,
) -> None:
    at = T0 + timedelta(minutes=20)
    await storage.upsert_many(
        [
            make_article("c1", published_at=at, topics=[POLITICS, SPORT]),
            make_article("c2", published_at=at + timedelta(minutes=30), topics=[POLITICS]),
            make_article("c3", published_at=at + timedelta(hours=2), topics=[SPORT]),
            # Two QCodes of one slug count the article once, under the least label.
            make_article(
                "c4",
                published_at=at + timedelta(hours=2),
                topics=[("medtop:x", "Politics"), POLITICS],
            ),
        ]
    )
    await storage.upsert_many([make_article("c2", published_at=at, topics=[SCIENCE])])
    await storage.upsert_many([make_article("c1", published_at=at, topics=[POLITICS, SPORT])])
    assert await storage.topic_counts(None) == [
        ("politics", "Politics", 2),
        ("sport", "sport", 2),
        ("science-and-technology", "science and technology", 1),
    ]
    # Since 10:40: c1 and c2 (10:20) are out, c3 and c4 (12:20) in.
    since = T0 + timedelta(minutes=40)
    assert await storage.topic_counts(since) == [
        ("politics", "Politics", 1),
        ("sport", "sport", 1),
    ]
    assert await storage.topic_counts_by_interval(T0 + timedelta(minutes=10), "hour") == [
        ("2024-05-01T10:00:00Z", "politics", "politics", 1),
        ("2024-05-01T10:00:00Z", "science-and-technology", "science and technology", 1),
        ("2024-05-01T10:00:00Z", "sport", "sport", 1),
        ("2024-05-01T12:00:00Z", "politics", "Politics", 1),
        ("2024-05-01T12:00:00Z", "sport", "sport", 1),
    ]
    assert await storage.topic_counts_by_interval(T0 + timedelta(minutes=30), "day") == [
        ("2024-05-01T00:00:00Z", "politics", "Politics", 1),
        ("2024-05-01T00:00:00Z", "sport", "sport", 1),
    ]
    # Whole days, the hours before the first of them, and a partial hour, together.
    await storage.upsert_many(
        [make_article("c5", published_at=T0 + timedelta(days=1, hours=3), topics=[SPORT])]
    )
    assert await storage.topic_counts_by_interval(T0 + timedelta(minutes=10), "day") == [
        ("2024-05-01T00:00:00Z", "politics", "Politics", 2),
        ("2024-05-01T00:00:00Z", "sport", "sport", 2),
        ("2024-05-01T00:00:00Z", "science-and-technology", "science and technology", 1),
        ("2024-05-02T00:00:00Z", "sport", "sport", 1),
    ]
    assert await storage.topic_counts_by_interval(None, "day") == [
        ("2024-05-01T00:00:00Z", "politics", "Politics", 2),
        ("2024-05-01T00:00:00Z", "sport", "sport", 2),
        ("2024-05-01T00:00:00Z", "science-and-technology", "science and technology", 1),
        ("2024-05-02T00:00:00Z", "sport", "sport", 1),
    ]


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "newsflow.db"
    conn = _raw(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with pytest.raises(RuntimeError, match="schema version"):
        await SQLiteStorage(path).open()


def test_fts_match_expression_quotes_every_word() -> None:
    assert fts_match_expression("climate bill") == (
        '("climate" OR "climates" OR "climated" OR "climating")'
        ' AND ("bill" OR "bills" OR "billed" OR "billing")'
    )
    assert fts_match_expression('"say hi" elect*') == '"say hi" AND "elect"*'
    assert fts_match_expression("NEAR( a") == (
        '("near" OR "nears" OR "neared" OR "nearing") AND "a"'
    )
    assert fts_match_expression('a -"b c"') == '("a") NOT "b c"'
    assert fts_match_expression("-- ; * \"'") is None
    assert fts_match_expression("") is None
    assert fts_match_expression("x\x00y\x07") == '"x" AND "y"'
    with pytest.raises(ValueError, match="besides the excluded ones"):
        fts_match_expression("-climate NOT bill")


def test_cursor_round_trip() -> None:
    cursor = encode_cursor("2024-05-01T10:00:00.000000Z", "a/1=é")
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor) == ("2024-05-01T10:00:00.000000Z", "a/1=é")
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor("%%%")


# -- measurements (printed, not asserted; run with -s to see them) --------------

_VOCABULARY = (
    "government minister election market shares economy climate storm flood court "
    "police football league final vaccine hospital research university energy oil "
    "prices inflation bank rates strike union company merger launch festival film"
)
_WORDS = _VOCABULARY.split()


async def test_measure_upsert_rate_and_search_latency(storage_url: str) -> None:
    rng = random.Random(42)
    people = [f"Person {i}" for i in range(200)]
    orgs = [f"Org {i}" for i in range(100)]
    topics = [POLITICS, ENVIRONMENT, SPORT, SCIENCE, ("medtop:04000000", "economy")]
    articles = []
    for i in range(5000):
        body = " ".join(rng.choice(_WORDS) for _ in range(800))  # about 6 KB
        chosen = [(p, "PERSON") for p in rng.sample(people, 6)]
        chosen += [(o, "ORG") for o in rng.sample(orgs, 4)]
        articles.append(
            make_article(
                f"bench-{i:05d}",
                title=" ".join(rng.choice(_WORDS) for _ in range(8)),
                body=body,
                source=f"Wire {i % 7}",
                language=("en", "de", "fr")[i % 3],
                published_at=T0 + timedelta(seconds=rng.randrange(30 * 86400)),
                entities=chosen,
                topics=rng.sample(topics, 2),
            )
        )

    store = open_storage(storage_url)
    await store.open()
    try:
        started = time.perf_counter()
        for start in range(0, len(articles), 500):
            await store.upsert_many(articles[start : start + 500])
        upsert_s = time.perf_counter() - started
        assert await store.count() == 5000

        started = time.perf_counter()
        await store.upsert_many(articles[:500])
        redelivery_s = time.perf_counter() - started

        queries = {
            "no filter, limit 20": SearchQuery(),
            "topic politics": SearchQuery(topic="politics"),
            "entity person 7": SearchQuery(entity="person 7"),
            "q 'climate storm'": SearchQuery(q="climate storm"),
            "q 'infl*'": SearchQuery(q="infl*"),
            "topic+entity+q+since": SearchQuery(
                topic="sport", entity="org 3", q="football", since=T0 + timedelta(days=10)
            ),
            "no filter, limit 500": SearchQuery(limit=500),
        }
        lines = [
            f"backend: {storage_url.partition(':')[0]}",
            f"upsert: 5000 articles in batches of 500: {upsert_s:.2f} s "
            f"= {5000 / upsert_s:,.0f} articles/s",
            f"re-upsert of 500 unchanged articles: {redelivery_s * 1000:.0f} ms",
        ]
        for name, query in queries.items():
            timings = []
            for _ in range(15):
                started = time.perf_counter()
                page = await store.search(query)
                timings.append(time.perf_counter() - started)
            lines.append(
                f"search {name}: median {statistics.median(timings) * 1000:.1f} ms, "
                f"{len(page.items)} items"
            )
        started = time.perf_counter()
        await store.top_entities(None, 20)
        lines.append(f"top_entities: {(time.perf_counter() - started) * 1000:.1f} ms")
        started = time.perf_counter()
        await store.topic_counts(None)
        lines.append(f"topic_counts: {(time.perf_counter() - started) * 1000:.1f} ms")
        print("\n" + "\n".join(lines))
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Hurricanes", ["h1"]),
        ("hurricane", ["h1"]),
        ("BOM OR CRLF", ["h3", "h2"]),
        ("line -BOM", ["h3"]),
        ('"line endings"', ["h3"]),
        ('"endings line"', []),
        ("flooded", ["h1"]),  # "flooding" and "floods" share the word "flood"
        ("policy", ["h2"]),  # "policies"
    ],
)
async def test_search_language_or_not_phrases_and_inflections(
    storage: Storage, q: str, expected: list[str]
) -> None:
    docs = [
        make_article("h1", title="Hurricane season", body="The hurricane caused flooding."),
        make_article("h2", title="Encoding policies", body="A BOM starts the file."),
        make_article("h3", title="Line endings", body="Windows writes CRLF line endings."),
    ]
    await storage.upsert_many(docs)
    assert sorted(await search_ids(storage, q=q), reverse=True) == expected
