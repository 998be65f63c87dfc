"""PostgreSQL specifics: migrations, the pool, server failures, what PostgreSQL
cannot store, and the full-text query builder.

The contract every backend meets runs in test_storage_sqlite.py; these tests use
the same server and database (see conftest.py) and skip with it. The tests of the
query builder and of unreachable servers need no server of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import unicodedata
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any
from unittest import mock

import psycopg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from shared.errors import InvalidMessage, RetryableError
from shared.storage import PostgresStorage, SearchQuery, SQLiteStorage
from shared.storage._common import encode_cursor
from shared.storage.postgres import (
    MIGRATION_LOCK_KEY,
    SCHEMA_VERSION,
    search_text,
    search_words,
    tsquery_text,
)
from tests.unit.conftest import postgres_url
from tests.unit.test_storage_sqlite import (
    T0,
    alias_corpus,
    corpus,
    ids,
    make_article,
    search_ids,
)

PASSWORD = "s3cret-pass"


@pytest.fixture
async def store(postgres_schema_url: str) -> AsyncIterator[PostgresStorage]:
    storage = PostgresStorage(postgres_schema_url)
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


@contextlib.contextmanager
def admin(url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain autocommit connection on ``url`` (its search_path included)."""
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with admin(url) as conn:
        return conn.execute(query).fetchall()


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- migrations ------------------------------------------------------------------


async def test_open_creates_the_schema_once_and_records_its_version(
    postgres_schema_url: str,
) -> None:
    first = PostgresStorage(postgres_schema_url)
    await first.open()
    await first.open()  # opening twice is harmless
    await first.upsert_many(corpus())
    second = PostgresStorage(postgres_schema_url)
    await second.open()  # a current schema: nothing to do, nothing lost
    try:
        assert await second.count() == 4
    finally:
        await first.close()
        await second.close()

    assert rows(postgres_schema_url, "SELECT version FROM schema_migrations ORDER BY 1") == [
        (version,) for version in range(1, SCHEMA_VERSION + 1)
    ]
    tables = rows(
        postgres_schema_url,
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
    )
    assert [t for (t,) in tables] == [
        "article_entities",
        "article_entity_names",
        "article_topics",
        "articles",
        "schema_migrations",
        "topic_counts",
        "topic_day_counts",
        "topic_hour_counts",
    ]
    # Full text is a tsvector column under a GIN index.
    indexes = rows(
        postgres_schema_url,
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND indexname = 'articles_search'",
    )
    assert len(indexes) == 1
    assert "USING gin (search)" in str(indexes[0][0])


async def test_migration_2_indexes_the_names_of_stored_articles(
    postgres_schema_url: str,
) -> None:
    store = PostgresStorage(postgres_schema_url)
    await store.open()
    await store.upsert_many(alias_corpus())
    await store.close()
    # The database as newsflow before surface-form search left it: version 1.
    with admin(postgres_schema_url) as conn:
        back_to_version_3(conn)
        conn.execute("DROP TABLE article_entity_names")
        conn.execute("DELETE FROM schema_migrations WHERE version > 1")

    store = PostgresStorage(postgres_schema_url)
    await store.open()
    try:
        assert await search_ids(store, entity="Trump") == ["t3", "t2", "t1"]  # surnames (v4)
        assert await search_ids(store, entity="US") == ["t2"]
        assert await search_ids(store, entity="Donald Trump") == ["t2", "t1"]
    finally:
        await store.close()
    assert rows(postgres_schema_url, "SELECT max(version) FROM schema_migrations") == [(4,)]
    indexes = rows(
        postgres_schema_url,
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND indexname = 'article_entity_names_time'",
    )
    assert len(indexes) == 1 and "(name_key, sort_at, article_id)" in str(indexes[0][0])


def back_to_version_3(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """The database as newsflow before the rollups and time walks left it."""
    for index in ("article_topics_slug_time", "article_topics_qcode_time"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("DROP INDEX article_entity_names_time")
    conn.execute("ALTER TABLE article_topics DROP COLUMN sort_at")
    conn.execute("ALTER TABLE article_entity_names DROP COLUMN sort_at")
    conn.execute("DROP TABLE topic_hour_counts, topic_day_counts, topic_counts")
    conn.execute("CREATE INDEX article_topics_slug ON article_topics (slug, article_id)")
    conn.execute("CREATE INDEX article_topics_qcode ON article_topics (qcode, article_id)")
    conn.execute(
        "CREATE INDEX article_entity_names_key ON article_entity_names (name_key, article_id)"
    )
    conn.execute("DELETE FROM schema_migrations WHERE version > 3")


async def test_migration_4_builds_the_counts_and_walks_of_stored_articles(
    postgres_schema_url: str,
) -> None:
    store = PostgresStorage(postgres_schema_url)
    await store.open()
    await store.upsert_many(corpus())
    expected_counts = await store.topic_counts(None)
    expected_days = await store.topic_counts_by_interval(None, "day")
    await store.close()
    with admin(postgres_schema_url) as conn:
        back_to_version_3(conn)
        # Version 3 indexed no surnames.
        conn.execute("DELETE FROM article_entity_names WHERE name_key = 'merkel'")

    store = PostgresStorage(postgres_schema_url)
    await store.open()
    try:
        assert await store.topic_counts(None) == expected_counts
        assert await store.topic_counts_by_interval(None, "day") == expected_days
        assert await search_ids(store, topic="politics") == ["a3", "a1"]
        assert await search_ids(store, entity="Angela Merkel") == ["a3", "a1"]
        assert await search_ids(store, entity="Merkel") == ["a3", "a1"]
    finally:
        await store.close()
    assert rows(postgres_schema_url, "SELECT max(version) FROM schema_migrations") == [(4,)]


def _plan(url: str, sql: str, params: Sequence[object]) -> str:
    """PostgreSQL's plan for ``sql`` on a table too small to be worth an index,
    with sequential scans and sorts priced out as the planner prices them at scale."""
    with admin(url) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_sort = off")
        plan = conn.execute("EXPLAIN " + sql, params).fetchall()
    return "\n".join(str(row[0]) for row in plan)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"topic": "politics"}, "article_topics_slug_time"),
        ({"topic": "medtop:11000000"}, "article_topics_qcode_time"),
        ({"entity": "Berlin"}, "article_entity_names_time"),
        ({"source": "wire a"}, "articles_source_lower"),
        ({"language": "en"}, "articles_language"),
        ({}, "articles_sort"),
    ],
)
async def test_pages_walk_an_index_backward_and_stop_at_the_limit(
    store: PostgresStorage, postgres_schema_url: str, filters: dict[str, object], index: str
) -> None:
    await store.upsert_many(corpus())
    statements: list[tuple[str, Sequence[object]]] = []
    real = psycopg.AsyncConnection.execute

    async def spy(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        if isinstance(query, str) and query.startswith("SELECT a.doc, "):
            statements.append((query, params))
        return await real(self, query, params, **kw)

    with mock.patch.object(psycopg.AsyncConnection, "execute", spy):
        first = await store.search(SearchQuery(limit=1, since=T0 - timedelta(days=1), **filters))
        assert first.next_cursor is not None
        await store.search(SearchQuery(limit=1, cursor=first.next_cursor, **filters))
    plans = [_plan(postgres_schema_url, sql, params) for sql, params in statements]
    assert plans
    for plan in plans:
        # Newest first along the index, stopping at LIMIT: no sort, no full scan.
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
        assert "Limit" in plan.splitlines()[0], plan
    assert any(f"Index Scan Backward using {index}" in plan for plan in plans) or any(
        f"Index Only Scan Backward using {index}" in plan for plan in plans
    ), plans


async def test_storages_opening_a_new_database_at_once_migrate_it_once(
    postgres_schema_url: str,
) -> None:
    storages = [PostgresStorage(postgres_schema_url) for _ in range(5)]
    try:
        await asyncio.gather(*(s.open() for s in storages))
        await storages[0].upsert_many(corpus())
        assert await asyncio.gather(*(s.count() for s in storages)) == [4] * 5
    finally:
        await asyncio.gather(*(s.close() for s in storages))

    assert rows(postgres_schema_url, "SELECT version FROM schema_migrations ORDER BY 1") == [
        (version,) for version in range(1, SCHEMA_VERSION + 1)
    ]


async def test_a_migration_waits_for_the_advisory_lock(postgres_schema_url: str) -> None:
    storage = PostgresStorage(postgres_schema_url)
    with admin(postgres_schema_url) as other:
        # Another process is migrating this database.
        other.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        opening = asyncio.create_task(storage.open())
        await asyncio.sleep(0.5)
        assert not opening.done()
        other.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        await asyncio.wait_for(opening, 10)
    try:
        assert await storage.count() == 0
    finally:
        await storage.close()


async def test_a_newer_schema_is_refused(postgres_schema_url: str) -> None:
    with admin(postgres_schema_url) as conn:
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY)")
        conn.execute("INSERT INTO schema_migrations VALUES (%s)", (SCHEMA_VERSION + 1,))

    storage = PostgresStorage(postgres_schema_url)
    with pytest.raises(RuntimeError, match="schema version"):
        await storage.open()
    await storage.close()


# -- the pool and concurrent writers ---------------------------------------------


async def test_concurrent_upserts_through_the_pool(postgres_schema_url: str) -> None:
    storage = PostgresStorage(postgres_schema_url, max_connections=4)
    await storage.open()
    try:
        # Eight writers, five batches each; writers pair up on the same 50 ids,
        # in opposite orders, so rows are rewritten concurrently.
        async def writer(task: int) -> list[int]:
            written = []
            for round_ in range(5):
                batch = [
                    make_article(
                        f"c{(task // 2) * 50 + i:03d}",
                        title=f"Version {task}.{round_}",
                        body=f"Written by writer {task} in round {round_}.",
                        entities=[(f"Writer {task}", "PERSON")],
                        topics=[("medtop:11000000", "politics")],
                        published_at=T0 + timedelta(minutes=i),
                    )
                    for i in range(50)
                ]
                if task % 2:
                    batch.reverse()
                written.append(await storage.upsert_many(batch))
            return written

        results = await asyncio.gather(*(writer(task) for task in range(8)))
        in_use = rows(
            postgres_schema_url,
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'newsflow'",
        )
        all_docs = (await storage.search(SearchQuery(limit=500))).items
    finally:
        await storage.close()

    assert results == [[50] * 5] * 8
    assert 2 <= int(in_use[0][0]) <= 4  # the pool did run writers side by side
    assert len(all_docs) == 200
    # Whichever writer won an article, its entities and topics are that writer's,
    # once: no mix of two versions, nothing left over.
    children = rows(
        postgres_schema_url,
        "SELECT article_id, array_agg(name) FROM article_entities GROUP BY article_id",
    )
    assert dict(children) == {doc.id: [doc.entities[0].name] for doc in all_docs}
    assert rows(postgres_schema_url, "SELECT count(*) FROM article_topics") == [(200,)]


# -- failures --------------------------------------------------------------------


async def test_an_unreachable_server_is_a_retryable_error_without_the_password() -> None:
    url = f"postgresql://newsflow:{PASSWORD}@127.0.0.1:{closed_port()}/newsflow"
    storage = PostgresStorage(url, timeout_s=2)
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1") as info:
        await storage.open()
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in repr(storage)
    await storage.close()


async def test_calls_before_open_raise() -> None:
    storage = PostgresStorage(f"postgresql://127.0.0.1:{closed_port()}/newsflow")
    with pytest.raises(RuntimeError, match="not open"):
        await storage.count()


async def test_a_refused_login_is_a_value_error_naming_database_url(
    postgres_database_url: str,
) -> None:
    params = conninfo_to_dict(postgres_database_url)
    host, port = params.get("host") or "127.0.0.1", params.get("port") or "5432"
    url = f"postgresql://no_such_role_x:{PASSWORD}@{host}:{port}/{params['dbname']}"
    with pytest.raises(ValueError, match="DATABASE_URL") as info:
        await PostgresStorage(url, timeout_s=5).open()
    assert "no_such_role_x" in str(info.value)
    assert PASSWORD not in str(info.value)


async def test_a_row_locked_by_another_writer_is_retryable(postgres_schema_url: str) -> None:
    # Give up on a row lock after 200 ms instead of waiting for it.
    impatient = postgres_url(postgres_schema_url, options="-c lock_timeout=200")
    storage = PostgresStorage(impatient)
    await storage.open()
    try:
        await storage.upsert_many(corpus())
        with admin(postgres_schema_url) as other:
            with other.transaction():
                other.execute("SELECT 1 FROM articles WHERE id = 'a1' FOR UPDATE")
                changed = make_article("a1", title="Changed while locked")
                with pytest.raises(RetryableError, match="lock"):
                    await storage.upsert_many([make_article("a0"), changed])
                assert await storage.count() == 4  # the batch was rolled back whole
            assert await storage.upsert_many([make_article("a0"), changed]) == 2
        assert await storage.count() == 5
        stored = await storage.get("a1")
        assert stored is not None
        assert stored.title == "Changed while locked"
    finally:
        await storage.close()


class _Proxy:
    """A TCP relay to the PostgreSQL server that can be cut and restored, as a
    network failure or a server restart would look to newsflow."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.target)
        self._writers |= {client_w, server_w}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))
        self._writers -= {client_w, server_w}


async def test_a_server_that_goes_away_is_retryable_and_then_recovers(
    postgres_schema_url: str,
) -> None:
    params = conninfo_to_dict(postgres_schema_url)
    proxy = _Proxy(str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432))
    await proxy.start()
    via_proxy = postgres_url(postgres_schema_url, address=f"127.0.0.1:{proxy.port}")
    storage = PostgresStorage(via_proxy, timeout_s=1)
    await storage.open()
    try:
        await storage.upsert_many(corpus())

        await proxy.cut()
        with pytest.raises(RetryableError, match="unavailable"):
            await storage.count()
        with pytest.raises(RetryableError):
            await storage.upsert_many([make_article("during-outage")])

        await proxy.start()  # same port: the server is back
        for _ in range(30):
            try:
                assert await storage.count() == 4
                break
            except RetryableError:
                await asyncio.sleep(0.5)
        else:
            pytest.fail("the storage did not reconnect within 15 s")
        assert await search_ids(storage, q="climate") == ["a1"]
    finally:
        await storage.close()
        await proxy.cut()


# -- what PostgreSQL cannot store ------------------------------------------------


async def test_a_nul_character_is_refused_before_anything_is_written(
    store: PostgresStorage,
) -> None:
    bad = make_article("bad", body="before\x00after")
    with pytest.raises(InvalidMessage, match=r"'bad'.*NUL"):
        await store.upsert_many([make_article("good"), bad])
    assert await store.count() == 0

    # The text "\u0000" (a backslash and five characters) is not a NUL.
    lookalike = make_article("lookalike", body=r"C:\u0000 is a path, not a NUL")
    assert await store.upsert_many([lookalike]) == 1
    assert await store.get("lookalike") == lookalike
    assert await store.get("bad\x00") is None


async def test_huge_bodies_and_words_are_stored_and_their_start_indexed(
    store: PostgresStorage,
) -> None:
    words = " ".join(f"w{i:05d}" for i in range(40_000))  # 280,000 characters
    huge = make_article("huge", title="Very long", body=f"opening {'x' * 3000} {words}")
    assert await store.upsert_many([huge]) == 1

    assert await store.get("huge") == huge
    assert await search_ids(store, q="opening w00001") == ["huge"]
    # Each character unfolds to four (NFKD): one word too long to index or match.
    assert await search_ids(store, q="㍿" * 500) == []


async def test_cursors_are_the_same_on_both_backends(store: PostgresStorage) -> None:
    sqlite = SQLiteStorage(":memory:")
    await sqlite.open()
    try:
        await sqlite.upsert_many(corpus())
        await store.upsert_many(corpus())
        first = await sqlite.search(SearchQuery(limit=2))
        rest = await store.search(SearchQuery(limit=2, cursor=first.next_cursor))
        assert ids(first.items) + ids(rest.items) == ["a4", "a3", "a2", "a1"]
    finally:
        await sqlite.close()


async def test_a_cursor_whose_time_is_not_a_time_is_a_value_error(store: PostgresStorage) -> None:
    with pytest.raises(ValueError, match="cursor"):
        await store.search(SearchQuery(cursor=encode_cursor("yesterday", "a1")))


# -- the full-text query builder (no server needed) ------------------------------


def test_search_words_fold_case_diacritics_and_compatibility_forms() -> None:
    assert search_words("Zürich's 2nd ÉCOLE ﬁnal x²") == [
        "zurich",
        "s",
        "2nd",
        "ecole",
        "final",
        "x2",
    ]
    assert search_words("naïve—café_au_lait") == ["naive", "cafe", "au", "lait"]
    assert search_words("Straße İstanbul") == ["strasse", "istanbul"]
    assert search_words("東京 новости") == ["東京", "новости"]
    assert search_words("-- ; * \"'") == []


def reference_search_words(text: str) -> list[str]:
    """The definition, character by character: casefold, NFKD, drop every
    nonspacing mark, then runs of letters and digits."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return re.findall(r"[^\W_]+", plain)


MULTILINGUAL = [
    "Die Bürger von Zürich ärgerten sich über die Größe der Straßen.",
    "L’été à Montréal: élèves, crème brûlée et façades ‘curly’ — déjà vu.",
    "東京都の新しい政策について、市民は議論した。",
    "Президент заявил, что правительство Ёлкина уйдёт.",
    "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد.",
    "नई दिल्ली में प्रधानमंत्री ने कहा",
    "Ἀθῆναι ΣΊΣΥΦΟΣ ὀδυσσεύς",
    "İstanbul ǅemal ﬁnal x² ½ ① Ⅻ ｆｕｌｌｗｉｄｔｈ",
    "a¨b c\u0301d e\u00b4 \u0301start ZÜRICH\u00a0Zürich\u2003end",
    "Việt Nam Hà Nội Đà Nẵng",
    "emoji 👍🏽 and zwj 👨\u200d👩 x\u200by",
]


@pytest.mark.parametrize("text", MULTILINGUAL)
def test_search_words_are_the_words_of_the_definition(text: str) -> None:
    assert search_words(text) == reference_search_words(text)
    assert search_words(text) == search_words(text)  # the remembered chunks too


@given(st.text(max_size=300))
@example("e\u0301 \u0301e x\u0308\u0301 \u0301\u0308y")
@settings(max_examples=400, deadline=None)
def test_search_words_of_any_text_are_those_of_the_definition(text: str) -> None:
    assert search_words(text) == reference_search_words(text)


def test_search_text_joins_title_and_body_words() -> None:
    assert search_text("Zürich: Final!", "FIFA flew in.") == "zurich final fifa flew in"
    assert search_text("t", "a " + "b" * 3000 + " c") == "t a c"


def test_tsquery_text_quotes_every_word() -> None:
    assert tsquery_text("vote") == "('vote' | 'votes' | 'voted' | 'voting')"
    assert tsquery_text("Zürich elect*") == (
        "('zurich' | 'zuriches' | 'zuriched' | 'zuriching') & 'elect':*"
    )
    assert tsquery_text("title:climate") == "('title' <-> 'climate')"
    assert tsquery_text("U.S.*") == "('u' <-> 's':*)"
    assert tsquery_text('"say hi" x') == "('say' <-> 'hi') & 'x'"
    assert tsquery_text("a & b | !c <-> d:*") == "'a' & 'b' & 'c' & 'd':*"
    assert tsquery_text("x OR y -z") == "('x' | 'y') & !'z'"
    assert tsquery_text("'; DROP* TABLE* articles*; --") == "'drop':* & 'table':* & 'articles':*"
    assert tsquery_text("x\x00y\x07") == "'x' & 'y'"
    assert tsquery_text("-- ; * \"'") is None
    assert tsquery_text("") is None
    assert tsquery_text("ok " + "y" * 3000) is None  # could never match
