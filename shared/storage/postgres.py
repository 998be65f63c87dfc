"""PostgreSQL storage: a psycopg 3 connection pool, full-text search with a tsvector.

Layout (schema version 4, recorded in ``schema_migrations``):

    articles            one row per article id; ``doc`` holds the whole EnrichedArticle
                        (jsonb), the other columns are copies for filtering and sorting;
                        ``search`` is the tsvector of title and body (GIN index)
    article_entities    (article_id, name, type) -> salience, mention count
    article_entity_names (article_id, name_key, sort_at): every name and surface form
                        of the article's entities, folded (entity search)
    article_topics      (article_id, qcode) -> slug, label, relevance, sort_at
    topic_hour_counts   (UTC hour, slug, label) -> articles; kept by the sink
    topic_day_counts    (UTC day, slug, label) -> articles; kept by the sink
    topic_counts        (slug, label) -> articles; kept by the sink
    schema_migrations   one row per applied schema version

A page sorted by time is a backward walk down one index ending in ``sort_at``
(``article_topics (slug, sort_at, article_id)``, ``article_entity_names (name_key,
sort_at, article_id)``, ``articles (sort_at, id)`` and its source and language
companions) that stops at the LIMIT.

Full text follows SQLite's rules (see ``SearchQuery``): words are runs of letters
and digits, compared without case or diacritics and without stemming; every word
of ``q`` must occur, ``word*`` is a prefix. The folding is done here, in Python,
for the stored text and the query alike, and PostgreSQL's ``simple`` configuration
indexes the folded words; ``q`` reaches the server only as quoted lexemes passed
as a parameter of ``to_tsquery``. Private-use characters, which SQLite's tokenizer
keeps, separate words here.

Errors: a connection that fails, drops or times out, a server that is starting or
shutting down, a deadlock or a lock timeout raise ``RetryableError``; a URL that
cannot be parsed, or a login the server refuses, ``ValueError`` naming
DATABASE_URL. Messages name the host, port and database, never the password.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import re
import sys
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

import orjson
import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from shared import codec
from shared.errors import InvalidMessage, RetryableError
from shared.models import EnrichedArticle
from shared.normalize import sort_time
from shared.storage._common import (
    WALK_INDEXES,
    Walk,
    as_utc,
    bucket_text,
    by_day,
    check_relevance_sort,
    day_after,
    decode_cursor_time,
    decode_offset_cursor,
    encode_cursor,
    encode_offset_cursor,
    entity_name_rows,
    fold_entity_name,
    hour_after,
    merge_counts,
    newest_page,
    search_filters,
    search_walks,
    since_join,
    slug_totals,
    topic_rollup_delta,
    utc_text,
)
from shared.storage._query import parse, tsquery
from shared.storage.base import SearchPage, SearchQuery

logger = logging.getLogger(__name__)

URL_SCHEMES = ("postgresql", "postgres")
DEFAULT_MIN_CONNECTIONS = 1
DEFAULT_MAX_CONNECTIONS = 10
DEFAULT_TIMEOUT_S = 10.0

# pg_advisory_xact_lock key that serializes migrations of one database
# (the bytes of "newsflow"); held only inside the migrating transaction.
MIGRATION_LOCK_KEY = 0x6E657773666C6F77

_BACKFILL_BATCH = 500
# As migration 2 wrote them, before rows carried their article's sort time.
_INSERT_ENTITY_NAMES_V2 = """
    INSERT INTO article_entity_names (article_id, name_key)
    SELECT * FROM unnest(%b::text[], %b::text[])
    ON CONFLICT DO NOTHING
"""
_INSERT_ENTITY_NAMES = """
    INSERT INTO article_entity_names (article_id, name_key, sort_at)
    SELECT * FROM unnest(%b::text[], %b::text[], %b::timestamptz[])
    ON CONFLICT DO NOTHING
"""


async def _fill_entity_names(conn: psycopg.AsyncConnection[Any]) -> None:
    """The entity names of the articles already stored (migration to version 2).

    Reads each document's JSON, not the model: a document an older newsflow wrote
    need not validate today. Keyset pages keep memory flat on a large store.
    """
    last = ""
    while True:
        cur = await conn.execute(
            "SELECT id, doc->'entities' FROM articles WHERE id > %s ORDER BY id LIMIT %s",
            (last, _BACKFILL_BATCH),
        )
        batch = await cur.fetchall()
        if not batch:
            return
        rows: set[tuple[str, str]] = set()
        for article_id, stored in batch:
            # A connection with newsflow's loader gives jsonb as text, a plain one as lists.
            entities = orjson.loads(stored) if isinstance(stored, bytes | str) else stored
            rows |= entity_name_rows(article_id, entities if isinstance(entities, list) else ())
        if rows:
            ordered = sorted(rows)
            await conn.execute(
                _INSERT_ENTITY_NAMES_V2, ([r[0] for r in ordered], [r[1] for r in ordered])
            )
        last = batch[-1][0]


async def _add_person_surnames(conn: psycopg.AsyncConnection[Any]) -> None:
    """The search keys stored articles lack: a person's surname, so ``entity=Trump``
    finds an article that wrote only "Donald Trump" (part of migration to version 4;
    the keys already there are kept)."""
    last = ""
    while True:
        cur = await conn.execute(
            "SELECT id, sort_at, doc->'entities' FROM articles WHERE id > %s ORDER BY id LIMIT %s",
            (last, _BACKFILL_BATCH),
        )
        batch = await cur.fetchall()
        if not batch:
            return
        rows: list[tuple[str, str, Any]] = []
        for article_id, sort_at, stored in batch:
            entities = orjson.loads(stored) if isinstance(stored, bytes | str) else stored
            found = entity_name_rows(article_id, entities if isinstance(entities, list) else ())
            rows += [(a, key, sort_at) for a, key in sorted(found)]
        if rows:
            await conn.execute(
                _INSERT_ENTITY_NAMES,
                ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
            )
        last = batch[-1][0]


# One tuple of steps per schema version (SQL statements, or coroutine functions of
# the connection for what SQL cannot do); migration N runs on a database at
# version N-1, in one transaction with the version row. Append, never edit: a
# released step has already run somewhere.
_MIGRATIONS: tuple[
    tuple[str | Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]], ...], ...
] = (
    (
        # Keys and codes use the "C" collation: byte order, as SQLite compares
        # them, so ids sort and page the same on both backends, and btree
        # comparisons skip the locale. ``body`` is not copied out of ``doc``:
        # only the index needs it, and ``doc->>'body'`` has it for ad-hoc queries.
        # ``doc_hash`` (BLAKE2b of the document's JSON) lets a redelivered batch
        # be recognised without sending or indexing it again.
        """
        CREATE TABLE articles (
            id            text COLLATE "C" PRIMARY KEY,
            sort_at       timestamptz NOT NULL,
            source        text COLLATE "C",
            language      text COLLATE "C",
            published_at  timestamptz,
            received_at   timestamptz NOT NULL,
            enriched_at   timestamptz NOT NULL,
            content_hash  text NOT NULL,
            url           text,
            canonical_url text,
            title         text NOT NULL,
            doc           jsonb NOT NULL,
            doc_hash      bytea NOT NULL,
            search        tsvector NOT NULL
        )
        """,
        # Each index ends in the sort key, so a filtered, newest-first page is a
        # backward walk down one index with no sort step.
        "CREATE INDEX articles_sort ON articles (sort_at, id)",
        "CREATE INDEX articles_source ON articles (source, sort_at, id)",
        "CREATE INDEX articles_language ON articles (language, sort_at, id)",
        "CREATE INDEX articles_search ON articles USING gin (search)",
        """
        CREATE TABLE article_entities (
            article_id    text COLLATE "C" NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            name          text COLLATE "C" NOT NULL,
            name_lower    text COLLATE "C" NOT NULL,
            type          text COLLATE "C" NOT NULL,
            salience      double precision NOT NULL,
            mention_count integer NOT NULL,
            PRIMARY KEY (article_id, name, type)
        )
        """,
        "CREATE INDEX article_entities_name ON article_entities (name_lower, article_id)",
        """
        CREATE TABLE article_topics (
            article_id text COLLATE "C" NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            qcode      text COLLATE "C" NOT NULL,
            slug       text COLLATE "C" NOT NULL,
            label      text COLLATE "C" NOT NULL,
            relevance  double precision NOT NULL,
            PRIMARY KEY (article_id, qcode)
        )
        """,
        "CREATE INDEX article_topics_slug ON article_topics (slug, article_id)",
        "CREATE INDEX article_topics_qcode ON article_topics (qcode, article_id)",
    ),
    (
        # Version 2: every name an article calls an entity by (canonical name and
        # surface forms, folded by ``entity_name_key``), for ``SearchQuery.entity``.
        """
        CREATE TABLE article_entity_names (
            article_id text COLLATE "C" NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            name_key   text COLLATE "C" NOT NULL,
            PRIMARY KEY (article_id, name_key)
        )
        """,
        "CREATE INDEX article_entity_names_key ON article_entity_names (name_key, article_id)",
        _fill_entity_names,
    ),
    (
        # Version 3: ``source`` matches in any case ("example news" finds "Example News").
        "CREATE INDEX IF NOT EXISTS articles_source_lower ON articles (lower(source), sort_at, id)",
        "DROP INDEX IF EXISTS articles_source",
    ),
    (
        # Version 4: a topic's or an entity's newest articles are a backward walk
        # down one index that stops at the page's LIMIT, so the rows carry their
        # article's sort time; topic counts come from rollups the sink keeps.
        "ALTER TABLE article_topics ADD COLUMN sort_at timestamptz",
        "UPDATE article_topics AS t SET sort_at = a.sort_at FROM articles AS a"
        " WHERE a.id = t.article_id",
        "ALTER TABLE article_topics ALTER COLUMN sort_at SET NOT NULL",
        "ALTER TABLE article_entity_names ADD COLUMN sort_at timestamptz",
        "UPDATE article_entity_names AS n SET sort_at = a.sort_at FROM articles AS a"
        " WHERE a.id = n.article_id",
        "ALTER TABLE article_entity_names ALTER COLUMN sort_at SET NOT NULL",
        _add_person_surnames,
        *WALK_INDEXES,
        # Hours are UTC, without a time zone, so no session setting moves them.
        """
        CREATE TABLE topic_hour_counts (
            hour  timestamp NOT NULL,
            slug  text COLLATE "C" NOT NULL,
            label text COLLATE "C" NOT NULL,
            n     integer NOT NULL,
            PRIMARY KEY (hour, slug, label)
        )
        """,
        """
        CREATE TABLE topic_day_counts (
            day   timestamp NOT NULL,
            slug  text COLLATE "C" NOT NULL,
            label text COLLATE "C" NOT NULL,
            n     integer NOT NULL,
            PRIMARY KEY (day, slug, label)
        )
        """,
        """
        CREATE TABLE topic_counts (
            slug  text COLLATE "C" NOT NULL,
            label text COLLATE "C" NOT NULL,
            n     integer NOT NULL,
            PRIMARY KEY (slug, label)
        )
        """,
        # An article counts once per slug, under its least label for it.
        """
        INSERT INTO topic_hour_counts (hour, slug, label, n)
        SELECT date_trunc('hour', sort_at AT TIME ZONE 'UTC'), slug, label, count(*)
        FROM (SELECT min(sort_at) AS sort_at, slug, min(label) AS label FROM article_topics
              GROUP BY article_id, slug) AS per_article
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO topic_day_counts (day, slug, label, n)
        SELECT date_trunc('day', hour), slug, label, sum(n) FROM topic_hour_counts
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO topic_counts (slug, label, n)
        SELECT slug, label, sum(n) FROM topic_hour_counts GROUP BY slug, label
        """,
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

_CREATE_MIGRATIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""

# Rows travel as parallel arrays, one statement per table and batch, in binary
# (%b: a text array literal of 500 documents costs ten times more to build and
# parse). The arrays are sorted by id and a plain unnest keeps their order, so row
# locks are taken in one global order: two writers whose batches share ids wait
# for each other instead of deadlocking. A document already stored is skipped
# twice over: by the hash check before the upsert, and by its WHERE for a copy
# written in between by another process. RETURNING names the rows written, whose
# entities and topics are then replaced.
_STORED_HASHES = "SELECT id, doc_hash FROM articles WHERE id = ANY (%b::text[])"
_UPSERT_ARTICLES = """
    INSERT INTO articles (
        id, sort_at, source, language, published_at, received_at, enriched_at,
        content_hash, url, canonical_url, title, doc, doc_hash, search
    )
    SELECT t.id, t.sort_at, t.source, t.language, t.published_at, t.received_at,
           t.enriched_at, t.content_hash, t.url, t.canonical_url, t.title,
           t.doc::jsonb, t.doc_hash, to_tsvector('simple', t.search_text)
    FROM unnest(
        %b::text[], %b::timestamptz[], %b::text[], %b::text[], %b::timestamptz[],
        %b::timestamptz[], %b::timestamptz[], %b::text[], %b::text[], %b::text[],
        %b::text[], %b::text[], %b::bytea[], %b::text[]
    ) AS t (
        id, sort_at, source, language, published_at, received_at, enriched_at,
        content_hash, url, canonical_url, title, doc, doc_hash, search_text
    )
    ON CONFLICT (id) DO UPDATE SET
        sort_at = excluded.sort_at,
        source = excluded.source,
        language = excluded.language,
        published_at = excluded.published_at,
        received_at = excluded.received_at,
        enriched_at = excluded.enriched_at,
        content_hash = excluded.content_hash,
        url = excluded.url,
        canonical_url = excluded.canonical_url,
        title = excluded.title,
        doc = excluded.doc,
        doc_hash = excluded.doc_hash,
        search = excluded.search
    WHERE articles.doc_hash <> excluded.doc_hash
    RETURNING id
"""
_DELETE_ENTITIES = "DELETE FROM article_entities WHERE article_id = ANY (%b::text[])"
_DELETE_TOPICS = """
    DELETE FROM article_topics WHERE article_id = ANY (%b::text[])
    RETURNING article_id, sort_at, slug, label
"""
_DELETE_ENTITY_NAMES = "DELETE FROM article_entity_names WHERE article_id = ANY (%b::text[])"
_INSERT_ENTITIES = """
    INSERT INTO article_entities (article_id, name, name_lower, type, salience, mention_count)
    SELECT * FROM unnest(
        %b::text[], %b::text[], %b::text[], %b::text[], %b::float8[], %b::integer[]
    )
"""
_INSERT_TOPICS = """
    INSERT INTO article_topics (article_id, qcode, slug, label, relevance, sort_at)
    SELECT * FROM unnest(
        %b::text[], %b::text[], %b::text[], %b::text[], %b::float8[], %b::timestamptz[]
    )
"""
# Rollup changes, in key order so two sinks lock the rows in one order.
_ADD_HOUR_COUNTS = """
    INSERT INTO topic_hour_counts AS c (hour, slug, label, n)
    SELECT * FROM unnest(%b::timestamp[], %b::text[], %b::text[], %b::integer[])
    ON CONFLICT (hour, slug, label) DO UPDATE SET n = c.n + excluded.n
"""
_ADD_DAY_COUNTS = """
    INSERT INTO topic_day_counts AS c (day, slug, label, n)
    SELECT * FROM unnest(%b::timestamp[], %b::text[], %b::text[], %b::integer[])
    ON CONFLICT (day, slug, label) DO UPDATE SET n = c.n + excluded.n
"""
_ADD_COUNTS = """
    INSERT INTO topic_counts AS c (slug, label, n)
    SELECT * FROM unnest(%b::text[], %b::text[], %b::integer[])
    ON CONFLICT (slug, label) DO UPDATE SET n = c.n + excluded.n
"""
# Rollup hours from the first whole hour after ``since``; the articles before it
# in since's own hour are counted from the base tables (_PARTIAL_HOUR).
_HOURS_SINCE = """
    SELECT NULL, slug, label, sum(n) FROM topic_hour_counts
    WHERE hour >= %s AND n > 0 GROUP BY slug, label
"""
_PARTIAL_HOUR = """
    SELECT date_trunc(%s, a.sort_at AT TIME ZONE 'UTC') AS bucket, t.slug, min(t.label),
           count(DISTINCT t.article_id)
    FROM articles AS a JOIN article_topics AS t ON t.article_id = a.id
    WHERE a.sort_at >= %s AND a.sort_at < %s
    GROUP BY bucket, t.slug
"""

# PostgreSQL indexes a word of at most 2046 bytes and a tsvector of at most 1 MB.
# The first 100,000 characters of folded title and body (some 15,000 words; tsvector
# positions stop counting at 16,383) stay well under that whatever the script.
_MAX_LEXEME_BYTES = 2046
_MAX_SEARCH_TEXT_CHARS = 100_000

# Letters and digits of any script: Python's \w without the underscore.
_WORD = re.compile(r"[^\W_]+")
# Control characters end a word of ``q``, as they do for SQLite.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A NUL anywhere in a document: orjson writes it as \u0000, and an escaped
# backslash before "u0000" is text, not a NUL.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# Server messages that mean the URL itself cannot work (wrong database, user or
# password), as opposed to a server that is away for a while.
_REFUSED_LOGIN = re.compile(
    r"authentication failed|does not exist|no pg_hba\.conf entry|permission denied"
    r"|password|role .* is not permitted",
    re.IGNORECASE,
)


# Whitespace-separated chunks up to this length are folded once and remembered:
# news text repeats its words, so most chunks of an article were folded before.
_CACHED_CHUNK_CHARS = 64


@functools.cache
def _combining_marks() -> dict[int, None]:
    """Every nonspacing mark (category Mn), as a ``str.translate`` table deleting it:
    what NFKD splits off as a diacritic."""
    return dict.fromkeys(
        code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Mn"
    )


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    if not folded.isascii():
        folded = folded.translate(_combining_marks())
    return folded


@functools.lru_cache(maxsize=1 << 16)
def _fold_chunk(chunk: str) -> str:
    return _fold(chunk)


def search_words(text: str) -> list[str]:
    """The words full-text search sees in ``text``: case and diacritics folded.

    ``"Zürich's 2nd"`` -> ``["zurich", "s", "2nd"]``. Compatibility forms are
    unfolded too (``"ﬁ"`` -> ``"fi"``, ``"²"`` -> ``"2"``).
    """
    if text.isascii():
        return _WORD.findall(text.lower())
    # The same words as folding the whole text: casefold maps each character alone,
    # NFKD reorders marks only between two starters (whitespace is one), and a
    # space stays a non-word character after folding. ASCII chunks fold by lower().
    return _WORD.findall(
        " ".join(
            chunk.lower()
            if chunk.isascii()
            else (_fold_chunk(chunk) if len(chunk) <= _CACHED_CHUNK_CHARS else _fold(chunk))
            for chunk in text.split()
        )
    )


def _fits(word: str) -> bool:
    # Cheap test first: no character is wider than 4 bytes in UTF-8.
    return len(word) * 4 <= _MAX_LEXEME_BYTES or len(word.encode()) <= _MAX_LEXEME_BYTES


def search_text(title: str, body: str) -> str:
    """Title and body as folded words joined by spaces, for ``to_tsvector('simple')``.

    The same words as ``search_words``, less any too long to be indexed.
    """
    words = search_words(title) + search_words(body)
    # Any word over a quarter of the limit in characters may be over it in bytes.
    if max(map(len, words), default=0) * 4 > _MAX_LEXEME_BYTES:
        words = [word for word in words if _fits(word)]
    text = " ".join(words)
    if len(text) > _MAX_SEARCH_TEXT_CHARS:
        text = text[:_MAX_SEARCH_TEXT_CHARS].rpartition(" ")[0]
    return text


def tsquery_text(q: str) -> str | None:
    """``q`` (the query language of ``shared.storage._query``) as a ``to_tsquery``
    expression of quoted lexemes, or None if it can match nothing.

    A word of several folded lexemes (``title:climate``, ``U.S.``) is a phrase
    (``<->``). Quotes, operators and brackets of ``tsquery`` are never syntax.
    None when no word is left, or a word is too long to ever be indexed;
    ``ValueError`` when ``q`` only excludes.
    """
    parsed = parse(q, search_words)
    if parsed is None:
        return None
    terms = [t for clause in parsed.clauses for t in clause] + list(parsed.excluded)
    if not all(_fits(word) for t in terms for word in t.words):
        return None
    return tsquery(parsed, _quote_lexeme)


def _quote_lexeme(lexeme: str) -> str:
    # Lexemes are letters and digits only; escaping is a second line of defence.
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def describe_url(url: str) -> str:
    """``host:port/dbname`` of a PostgreSQL URL, for messages; never the password.

    Raises ``ValueError`` naming DATABASE_URL (and not echoing it) when libpq
    cannot parse the URL.
    """
    params = _parse_url(url)
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    dbname = params.get("dbname") or params.get("user") or ""
    return f"{host}:{port}/{dbname}"


def _libpq_url(url: str) -> str:
    """``url`` with its scheme in lower case, as libpq wants it."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in URL_SCHEMES:
        raise ValueError(
            "DATABASE_URL: a PostgreSQL URL starts with postgresql:// "
            "(postgresql://user:password@host:5432/dbname)"
        )
    return f"{scheme.lower()}://{rest}"


def _parse_url(url: str) -> dict[str, str]:
    try:
        params = conninfo_to_dict(_libpq_url(url))
    except psycopg.Error:
        # libpq's message may quote the part it could not read: the password.
        raise ValueError(
            "DATABASE_URL: not a valid PostgreSQL URL "
            "(postgresql://user:password@host:5432/dbname; percent-encode special "
            "characters in the password)"
        ) from None
    return {key: str(value) for key, value in params.items() if value is not None}


class _RawJsonLoader(Loader):
    """Loads jsonb as its JSON text, for pydantic to parse, instead of a dict."""

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("jsonb", _RawJsonLoader)


class PostgresStorage:
    """``Storage`` on a PostgreSQL database, through a pool of connections.

    Any number of processes may share the database: writes of one batch are one
    transaction, and concurrent batches that share ids wait for each other. Within
    a process, calls run concurrently on up to ``max_connections`` connections.
    """

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = DEFAULT_MIN_CONNECTIONS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        """A storage for ``url`` (``postgresql://`` or ``postgres://``); not yet open.

        ``timeout_s`` bounds connecting and waiting for a free pooled connection.
        Raises ``ValueError`` naming DATABASE_URL when the URL cannot be parsed.
        """
        self._where = describe_url(url)
        params = _parse_url(url)
        self._password = params.get("password", "")
        # Keyword arguments override the URL's parameters, so only defaults go here.
        self._connect_kwargs: dict[str, Any] = {"fallback_application_name": "newsflow"}
        if "connect_timeout" not in params:
            self._connect_kwargs["connect_timeout"] = max(1, round(timeout_s))
        self._url = _libpq_url(url)
        self.min_connections = min_connections
        self.max_connections = max_connections
        self.timeout_s = timeout_s
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._open_lock = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> PostgresStorage:
        """A storage for ``postgresql://...``; raises ``ValueError`` naming DATABASE_URL."""
        return cls(url, **kwargs)

    def __repr__(self) -> str:
        return f"PostgresStorage({self._where!r})"

    # -- lifecycle ---------------------------------------------------------------

    async def open(self) -> None:
        """Connect, create or migrate the schema, and fill the pool.

        Safe when several processes open the same database at once: migrations
        take an advisory lock. Raises ``RetryableError`` when the server cannot be
        reached in ``timeout_s``, ``ValueError`` naming DATABASE_URL when it refuses
        the login or has no such database, ``RuntimeError`` when the database's
        schema is newer than this code. Opening an open storage does nothing.
        """
        async with self._open_lock:
            if self._pool is not None:
                return
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, **self._connect_kwargs
                )
            except psycopg.OperationalError as exc:
                raise self._connect_error(exc) from exc
            try:
                async with conn:
                    await self._migrate(conn)
            except psycopg.OperationalError as exc:
                raise self._retryable(exc) from exc
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                self._url,
                kwargs={"autocommit": True, **self._connect_kwargs},
                min_size=self.min_connections,
                max_size=self.max_connections,
                timeout=self.timeout_s,
                configure=_configure,
                # A connection the server dropped (restart, failover) is replaced
                # before use instead of failing the call.
                check=AsyncConnectionPool.check_connection,
                name=f"newsflow {self._where}",
                open=False,
            )
            try:
                await pool.open(wait=True, timeout=self.timeout_s)
            except BaseException as exc:
                await pool.close()
                if isinstance(exc, psycopg.OperationalError):
                    raise self._retryable(exc) from exc
                raise
            self._pool = pool
            logger.debug("opened PostgreSQL %s at schema version %d", self._where, SCHEMA_VERSION)

    async def close(self) -> None:
        """Close every pooled connection; idempotent."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _migrate(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # The common case, a current schema, takes no lock and writes nothing, so
        # a role that may only read (an API replica, a reporting user) opens too.
        if await self._schema_version(conn) == SCHEMA_VERSION:
            return
        async with conn.transaction():
            # Two processes opening a new database at once: the second waits here,
            # then finds the schema in place.
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            await conn.execute(_CREATE_MIGRATIONS_TABLE)
            version = await self._schema_version(conn)
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"PostgreSQL {self._where} has schema version {version}; this newsflow "
                    f"knows up to {SCHEMA_VERSION}. Upgrade newsflow or use another DATABASE_URL."
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for step in _MIGRATIONS[target - 1]:
                    if isinstance(step, str):
                        await conn.execute(step)
                    else:
                        await step(conn)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (target,))
                logger.info("migrated PostgreSQL %s to schema version %d", self._where, target)

    @staticmethod
    async def _schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
        cur = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        row = await cur.fetchone()
        if row is None or not row[0]:
            return 0
        cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
        row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    # -- errors ------------------------------------------------------------------

    def _message(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split()) or type(exc).__name__
        # libpq does not quote passwords in its messages; this is a second guard.
        if len(self._password) >= 4:
            text = text.replace(self._password, "***")
        return text

    def _retryable(self, exc: BaseException) -> RetryableError:
        return RetryableError(f"PostgreSQL {self._where} is unavailable: {self._message(exc)}")

    def _connect_error(self, exc: psycopg.OperationalError) -> Exception:
        message = self._message(exc)
        if _REFUSED_LOGIN.search(message):
            return ValueError(f"DATABASE_URL: PostgreSQL {self._where} refused it: {message}")
        return self._retryable(exc)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection; failures of the server or the network become
        ``RetryableError`` (psycopg's OperationalError: connection lost, pool
        timeout, deadlock, serialization failure, lock or statement timeout)."""
        pool = self._pool
        if pool is None:
            raise RuntimeError(f"{self!r} is not open; await open() first")
        try:
            async with pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise self._retryable(exc) from exc

    # -- writes ------------------------------------------------------------------

    async def upsert_many(self, articles: Sequence[EnrichedArticle]) -> int:
        """Insert or replace by ``id`` in one transaction; returns distinct ids written.

        A rewrite replaces the row, its entities and topics and its full-text
        entry; nothing is duplicated. Within a batch the last copy of an id wins.
        Raises ``InvalidMessage`` naming the article when a document holds a NUL
        character (PostgreSQL text cannot), before anything is written;
        ``RetryableError`` when the server is unavailable, after which nothing
        of the batch is written.
        """
        if not articles:
            return 0
        started = time.perf_counter()
        latest = {article.id: article for article in articles}
        # Encoding and folding the text are CPU work that needs no connection: done
        # in a thread before taking one, so the event loop keeps reading and acking.
        encoded = await asyncio.to_thread(
            lambda: [_Encoded.of(latest[article_id]) for article_id in sorted(latest)]
        )
        changed: list[str] = []
        entity_rows = topic_rows = 0
        async with self._connection() as conn, conn.transaction():
            cur = await conn.execute(_STORED_HASHES, ([e.article.id for e in encoded],))
            stored = {article_id: bytes(digest) for article_id, digest in await cur.fetchall()}
            encoded = [e for e in encoded if stored.get(e.article.id) != e.digest]
            if encoded:
                cur = await conn.execute(_UPSERT_ARTICLES, _article_columns(encoded))
                changed = sorted(row[0] for row in await cur.fetchall())
            if changed:
                rewritten = [latest[article_id] for article_id in changed]
                await conn.execute(_DELETE_ENTITIES, (changed,))
                # The rows this transaction replaces, read as it deletes them (their
                # article rows are locked by the upsert): what the rollups lose.
                cur = await conn.execute(_DELETE_TOPICS, (changed,))
                old = [
                    (aid, _hour(at), slug, label) for aid, at, slug, label in await cur.fetchall()
                ]
                await conn.execute(_DELETE_ENTITY_NAMES, (changed,))
                entities = _entity_columns(rewritten)
                names = _name_columns(rewritten)
                topics = _topic_columns(rewritten)
                entity_rows, topic_rows = len(entities[0]), len(topics[0])
                if entity_rows:
                    await conn.execute(_INSERT_ENTITIES, entities)
                if names[0]:
                    await conn.execute(_INSERT_ENTITY_NAMES, names)
                if topic_rows:
                    await conn.execute(_INSERT_TOPICS, topics)
                new = [
                    (aid, _hour(at), slug, label)
                    for aid, _, slug, label, _, at in zip(*topics, strict=True)
                ]
                await _add_to_rollups(conn, topic_rollup_delta(old, new))
        logger.debug(
            "upserted %d articles (%d changed, %d entities, %d topics) in %.1f ms",
            len(latest),
            len(changed),
            entity_rows,
            topic_rows,
            (time.perf_counter() - started) * 1000,
        )
        return len(latest)

    # -- reads -------------------------------------------------------------------

    async def get(self, article_id: str) -> EnrichedArticle | None:
        """The stored document, or None. A stored document that no longer validates
        raises ``pydantic.ValidationError``."""
        if "\x00" in article_id:
            return None  # PostgreSQL text cannot hold it, so no id has it
        async with self._connection() as conn:
            cur = await conn.execute("SELECT doc FROM articles WHERE id = %s", (article_id,))
            row = await cur.fetchone()
        return None if row is None else codec.loads(EnrichedArticle, row[0])

    async def count(self) -> int:
        """How many articles are stored."""
        async with self._connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM articles")
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def search(self, query: SearchQuery) -> SearchPage:
        """Articles matching every filter of ``query``, newest first, one page.

        Raises ``ValueError`` naming ``cursor`` for a cursor no search issued.
        ``q`` is always taken as plain words (see ``tsquery_text``); a ``q`` with no
        letter or digit in it matches nothing.
        """
        check_relevance_sort(query.q, query.sort)
        tsquery: str | None = None
        if query.q is not None:
            tsquery = tsquery_text(query.q)
            if tsquery is None:
                return SearchPage(items=[])
        if query.sort == "relevance":
            assert tsquery is not None
            return await self._relevance_page(query, tsquery)
        cursor = decode_cursor_time(query.cursor) if query.cursor is not None else None
        rows: list[Any] = []
        for walk in search_walks(query):
            rows += await self._walk(query, walk, tsquery, cursor)
        page, more = newest_page(rows, query.limit)
        items = [codec.loads(EnrichedArticle, row[0]) for row in page]
        next_cursor = encode_cursor(utc_text(page[-1][1]), page[-1][2]) if more else None
        return SearchPage(items=items, next_cursor=next_cursor)

    async def _walk(
        self,
        query: SearchQuery,
        walk: Walk,
        tsquery: str | None,
        cursor: tuple[datetime, str] | None,
    ) -> list[Any]:
        """Up to ``limit + 1`` distinct ``(doc, sort_at, id)`` rows along ``walk``."""
        where, params = search_filters(
            query, "%s", as_utc, source_sql="lower(a.source) = lower(%s)", walk=walk
        )
        if tsquery is not None:
            where.append("a.search @@ to_tsquery('simple', %s)")
            params.append(tsquery)
        if cursor is not None:
            where.append(f"({walk.time}, {walk.id}) < (%s, %s)")
            params += cursor
        # Only fixed fragments above are joined into the SQL; every value is a
        # parameter. One extra row tells whether another page exists.
        if walk.table is None:
            sql = (
                "SELECT a.doc, a.sort_at, a.id FROM articles AS a"
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY a.sort_at DESC, a.id DESC LIMIT %s"
            )
        else:
            # A backward walk down (column, sort_at, article_id), joined row by row.
            sql = (
                f"SELECT a.doc, d.sort_at, d.article_id FROM {walk.table} AS d"
                " JOIN articles AS a ON a.id = d.article_id WHERE "
                + " AND ".join(where)
                + " ORDER BY d.sort_at DESC, d.article_id DESC LIMIT %s"
            )
        want = fetch = query.limit + 1
        async with self._connection() as conn:
            while True:
                cur = await conn.execute(sql, [*params, fetch])
                rows = await cur.fetchall()
                # A walk over one slug meets an article twice only when two of its
                # topics share the slug; then it reads further.
                unique = list({row[2]: row for row in rows}.values())
                if len(unique) >= want or len(rows) < fetch:
                    return unique[:want]
                fetch *= 2

    async def _relevance_page(self, query: SearchQuery, tsquery: str) -> SearchPage:
        offset = decode_offset_cursor(query.cursor) if query.cursor else 0
        where, params = search_filters(
            query, "%s", as_utc, source_sql="lower(a.source) = lower(%s)"
        )
        where.append("a.search @@ to_tsquery('simple', %s)")
        params.append(tsquery)
        # Best cover-density rank first; ties newest first, then by id, so the
        # order (and with it every offset page) is total.
        sql = (
            "SELECT a.doc FROM articles AS a WHERE "
            + " AND ".join(where)
            + " ORDER BY ts_rank_cd(a.search, to_tsquery('simple', %s)) DESC,"
            " a.sort_at DESC, a.id DESC LIMIT %s OFFSET %s"
        )
        async with self._connection() as conn:
            cur = await conn.execute(sql, [*params, tsquery, query.limit + 1, offset])
            rel_rows = await cur.fetchall()
        more = len(rel_rows) > query.limit
        return SearchPage(
            items=[codec.loads(EnrichedArticle, row[0]) for row in rel_rows[: query.limit]],
            next_cursor=encode_offset_cursor(offset + query.limit) if more else None,
        )

    async def top_entities(self, since: datetime | None, limit: int) -> list[tuple[str, str, int]]:
        """``(name, type, article count)``, most articles first, at most ``limit``.

        Raises ``ValueError`` if ``limit`` is below 1.
        """
        if limit < 1:
            raise ValueError(f"limit: must be at least 1, got {limit}")
        join, params = _since_join("e", since)
        # count(DISTINCT) because name_lower groups names that differ only by case.
        sql = (
            "SELECT min(e.name), e.type, count(DISTINCT e.article_id) AS n"
            f" FROM article_entities AS e{join}"
            " GROUP BY e.name_lower, e.type ORDER BY n DESC, e.name_lower, e.type LIMIT %s"
        )
        async with self._connection() as conn:
            cur = await conn.execute(sql, [*params, limit])
            rows = await cur.fetchall()
        return [(str(name), str(type_), int(n)) for name, type_, n in rows]

    async def topic_counts(self, since: datetime | None) -> list[tuple[str, str, int]]:
        """``(slug, label, article count)`` for every topic in use, most articles first."""
        if since is None:
            sql, args = "SELECT NULL, slug, label, n FROM topic_counts WHERE n > 0", []
        else:
            sql, args = _HOURS_SINCE, [_hour(hour_after(since))]
        rows = await self._counts(sql, args, since, None)
        return [(slug, label, n) for _, slug, label, n in rows]

    async def topic_counts_by_interval(
        self, since: datetime | None, interval: Literal["hour", "day"]
    ) -> list[tuple[str, str, str, int]]:
        """``(bucket start, slug, label, article count)``, oldest bucket first."""
        if interval not in ("hour", "day"):
            raise ValueError(f"interval: must be 'hour' or 'day', not {interval!r}")
        hour_from = _hour(hour_after(since)) if since is not None else datetime.min
        if interval == "hour":
            sql = "SELECT hour, slug, label, n FROM topic_hour_counts WHERE hour >= %s AND n > 0"
            args: list[Any] = [hour_from]
        else:
            # Whole days from the day rollup; the hours before the first of them
            # from the hour rollup (and the first, partial hour from the articles).
            day_from = _hour(day_after(since)) if since is not None else datetime.min
            sql = (
                "SELECT day, slug, label, n FROM topic_day_counts WHERE day >= %s AND n > 0"
                " UNION ALL SELECT date_trunc('day', hour), slug, label, n"
                " FROM topic_hour_counts WHERE hour >= %s AND hour < %s AND n > 0"
            )
            args = [day_from, hour_from, day_from]
        return await self._counts(sql, args, since, interval)

    async def _counts(
        self, sql: str, args: list[Any], since: datetime | None, interval: str | None
    ) -> list[tuple[str, str, str, int]]:
        """Rollup rows from ``sql``, plus the articles of the hour ``since`` falls in
        (counted from the base tables), merged per bucket of ``interval`` (or none)."""
        async with self._connection() as conn:
            cur = await conn.execute(sql, args)
            rows = await cur.fetchall()
            if since is not None:
                cur = await conn.execute(
                    _PARTIAL_HOUR, [interval or "hour", as_utc(since), hour_after(since)]
                )
                rows += await cur.fetchall()
        return merge_counts(
            (
                bucket_text(bucket) if interval and bucket else "",
                str(slug),
                str(label),
                int(n),
            )
            for bucket, slug, label, n in rows
        )


def _since_join(alias: str, since: datetime | None) -> tuple[str, list[Any]]:
    return since_join(alias, since, "%s", as_utc)


class _Encoded(NamedTuple):
    """An article with its document JSON, that JSON's hash and its folded words."""

    article: EnrichedArticle
    doc: bytes
    digest: bytes
    search_text: str

    @classmethod
    def of(cls, article: EnrichedArticle) -> _Encoded:
        """Encode ``article``; ``InvalidMessage`` if PostgreSQL could not store it."""
        doc = codec.dumps(article)
        if b"\\u0000" in doc and _JSON_NUL.search(doc):
            raise InvalidMessage(
                f"article {article.id!r}: PostgreSQL cannot store text with a NUL character"
            )
        digest = hashlib.blake2b(doc, digest_size=16).digest()
        return cls(article, doc, digest, search_text(article.title, article.body))


def _article_columns(encoded: Iterable[_Encoded]) -> tuple[list[Any], ...]:
    """The parallel arrays ``_UPSERT_ARTICLES`` takes, one element per article."""
    columns: tuple[list[Any], ...] = tuple([] for _ in range(14))
    for article, doc, digest, text in encoded:
        published = article.published_at
        values = (
            article.id,
            _sort_at(article),
            article.source,
            article.language,
            published,
            article.received_at,
            article.provenance.enriched_at,
            article.content_hash,
            article.url,
            article.canonical_url,
            article.title,
            doc.decode(),
            digest,
            text,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


def _entity_columns(articles: Iterable[EnrichedArticle]) -> tuple[list[Any], ...]:
    # An enricher should emit each (name, type) once per article; if one repeats,
    # merging keeps the batch writable (one INSERT cannot touch a row twice).
    merged: dict[tuple[str, str, str], tuple[float, int]] = {}
    for article in articles:
        for entity in article.entities:
            key = (article.id, entity.name, entity.type)
            salience, mentions = merged.get(key, (entity.salience, 0))
            merged[key] = (max(salience, entity.salience), mentions + entity.mention_count)
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [])
    for (article_id, name, type_), (salience, mentions) in merged.items():
        for column, value in zip(
            columns,
            (article_id, name, fold_entity_name(name), type_, float(salience), mentions),
            strict=True,
        ):
            column.append(value)
    return columns


def _sort_at(article: EnrichedArticle) -> datetime:
    return sort_time(article.published_at, article.received_at)


def _hour(value: datetime) -> datetime:
    """The UTC hour bucket of a time, as ``topic_hour_counts.hour`` holds it."""
    return as_utc(value).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def _topic_columns(articles: Iterable[EnrichedArticle]) -> tuple[list[Any], ...]:
    merged: dict[tuple[str, str], tuple[str, str, float, datetime]] = {}
    for article in articles:
        at = _sort_at(article)
        for topic in article.topics:
            key = (article.id, topic.qcode)
            slug, label, relevance, _ = merged.get(
                key, (topic.slug, topic.label, topic.relevance, at)
            )
            merged[key] = (slug, label, max(relevance, topic.relevance), at)
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [])
    for (article_id, qcode), (slug, label, relevance, at) in merged.items():
        for column, value in zip(
            columns, (article_id, qcode, slug, label, float(relevance), at), strict=True
        ):
            column.append(value)
    return columns


def _name_columns(articles: Iterable[EnrichedArticle]) -> tuple[list[Any], ...]:
    """``(article_id, name_key, sort_at)`` arrays of every entity name, sorted."""
    rows = sorted(
        (*row, _sort_at(article))
        for article in articles
        for row in entity_name_rows(article.id, article.entities)
    )
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


async def _add_to_rollups(
    conn: psycopg.AsyncConnection[Any], delta: dict[tuple[Any, str, str], int]
) -> None:
    """Apply a ``topic_rollup_delta`` to the hourly and total topic counts."""
    if not delta:
        return
    for sql, changes in (
        (_ADD_HOUR_COUNTS, delta),
        (_ADD_DAY_COUNTS, by_day(delta, lambda hour: hour.replace(hour=0))),
    ):
        keys = list(changes)
        await conn.execute(
            sql,
            (
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                list(changes.values()),
            ),
        )
    totals = slug_totals(delta)
    await conn.execute(
        _ADD_COUNTS, ([k[0] for k in totals], [k[1] for k in totals], list(totals.values()))
    )
