"""SQLite storage: one file, WAL mode, full-text search with FTS5.

Layout (schema version 4, recorded in ``PRAGMA user_version``):

    articles            one row per article id; ``doc`` holds the whole EnrichedArticle
                        JSON, the other columns are copies for filtering and sorting
    article_entities    (article_id, name, type) -> salience, mention count
    article_entity_names (article_id, name_key): every name and surface form of the
                        article's entities, folded, indexed by (key, sort_at) (entity search)
    article_topics      (article_id, qcode) -> slug, label, relevance, sort_at; indexed
                        by (slug, sort_at) and (qcode, sort_at)
    topic_hour_counts   (UTC hour, slug, label) -> articles; kept by the sink
    topic_day_counts    (UTC day, slug, label) -> articles; kept by the sink
    topic_counts        (slug, label) -> articles; kept by the sink
    articles_fts        FTS5 index of title and body, kept in step by triggers

A page sorted by time is a backward walk down one index ending in ``sort_at`` that
stops at the LIMIT; ``sort_at`` is copied into the topic and name rows for that.

Every call runs its blocking sqlite3 work in a worker thread, on one connection
serialized by a lock, so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson

from shared import codec
from shared.errors import RetryableError
from shared.models import EnrichedArticle
from shared.normalize import sort_time
from shared.storage._common import (
    WALK_INDEXES,
    Walk,
    bucket_text,
    by_day,
    check_relevance_sort,
    day_after,
    decode_cursor,
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
from shared.storage._query import fts5, fts5_words, parse
from shared.storage.base import SearchPage, SearchQuery

logger = logging.getLogger(__name__)

T = TypeVar("T")

URL_PREFIX = "sqlite:///"
MEMORY = ":memory:"
DEFAULT_BUSY_TIMEOUT_S = 5.0
# bm25 column weights (title, body) for sort="relevance": a title word counts more.
_BM25_WEIGHTS = (5.0, 1.0)
# strftime patterns of the topic_counts_by_interval buckets, on sort_at.
_BUCKETS = {"hour": "%Y-%m-%dT%H:00:00Z", "day": "%Y-%m-%dT00:00:00Z"}


def _fill_entity_names(conn: sqlite3.Connection) -> None:
    """The entity names of the articles already stored (migration to version 2).

    Reads each document's JSON, not the model: a document an older newsflow wrote
    need not validate today. Keyset pages keep memory flat on a large store.
    """
    last = ""
    while True:
        batch = conn.execute(
            "SELECT id, doc FROM articles WHERE id > ? ORDER BY id LIMIT ?",
            (last, _BACKFILL_BATCH),
        ).fetchall()
        if not batch:
            return
        rows: set[tuple[str, str]] = set()
        for article_id, doc in batch:
            entities = orjson.loads(doc).get("entities") or ()
            rows |= entity_name_rows(article_id, entities)
        conn.executemany(_INSERT_ENTITY_NAME_V2, sorted(rows))
        last = batch[-1][0]


def _add_person_surnames(conn: sqlite3.Connection) -> None:
    """The search keys stored articles lack: a person's surname, so ``entity=Trump``
    finds an article that wrote only "Donald Trump" (part of migration to version 4;
    the keys already there are kept)."""
    last = ""
    while True:
        batch = conn.execute(
            "SELECT id, sort_at, doc FROM articles WHERE id > ? ORDER BY id LIMIT ?",
            (last, _BACKFILL_BATCH),
        ).fetchall()
        if not batch:
            return
        rows: list[tuple[str, str, str]] = []
        for article_id, sort_at, doc in batch:
            entities = orjson.loads(doc).get("entities") or ()
            rows += [(a, key, sort_at) for a, key in entity_name_rows(article_id, entities)]
        conn.executemany(
            "INSERT OR IGNORE INTO article_entity_names (article_id, name_key, sort_at)"
            " VALUES (?, ?, ?)",
            sorted(rows),
        )
        last = batch[-1][0]


# One tuple of steps per schema version (SQL statements, or functions of the
# connection for what SQL cannot do); migration N runs on a database at version
# N-1. Append, never edit: a released step has already run somewhere.
_MIGRATIONS: tuple[tuple[str | Callable[[sqlite3.Connection], None], ...], ...] = (
    (
        # ``rid`` is an explicit INTEGER PRIMARY KEY because the FTS index is keyed
        # by rowid, and VACUUM may renumber an implicit rowid. Small columns come
        # first: SQLite reads a row front to back, so a filter on ``sort_at`` placed
        # after a 6 KB body would walk the body's overflow pages for every row.
        """
        CREATE TABLE articles (
            rid           INTEGER PRIMARY KEY,
            id            TEXT NOT NULL UNIQUE,
            sort_at       TEXT NOT NULL,
            source        TEXT,
            language      TEXT,
            published_at  TEXT,
            received_at   TEXT NOT NULL,
            enriched_at   TEXT NOT NULL,
            content_hash  TEXT NOT NULL,
            url           TEXT,
            canonical_url TEXT,
            title         TEXT NOT NULL,
            body          TEXT NOT NULL,
            doc           BLOB NOT NULL
        )
        """,
        # Each index ends in the sort key, so a filtered, newest-first page is a
        # walk down one index with no sort step.
        "CREATE INDEX articles_sort ON articles (sort_at, id)",
        "CREATE INDEX articles_source ON articles (source, sort_at, id)",
        "CREATE INDEX articles_language ON articles (language, sort_at, id)",
        """
        CREATE TABLE article_entities (
            article_id    TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            name          TEXT NOT NULL,
            name_lower    TEXT NOT NULL,
            type          TEXT NOT NULL,
            salience      REAL NOT NULL,
            mention_count INTEGER NOT NULL,
            PRIMARY KEY (article_id, name, type)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX article_entities_name ON article_entities (name_lower, article_id)",
        """
        CREATE TABLE article_topics (
            article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            qcode      TEXT NOT NULL,
            slug       TEXT NOT NULL,
            label      TEXT NOT NULL,
            relevance  REAL NOT NULL,
            PRIMARY KEY (article_id, qcode)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX article_topics_slug ON article_topics (slug, article_id)",
        "CREATE INDEX article_topics_qcode ON article_topics (qcode, article_id)",
        # External content: the text lives once, in ``articles``. No porter stemmer:
        # it is English-only and it breaks prefix queries ("electio*" would not
        # match "election"); users get prefixes with ``*`` instead.
        """
        CREATE VIRTUAL TABLE articles_fts USING fts5 (
            title, body,
            content = 'articles', content_rowid = 'rid',
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        # An external-content index must be told the exact old text to remove it,
        # so only triggers, which see ``old``, keep it consistent. Upserts use
        # ON CONFLICT DO UPDATE (not INSERT OR REPLACE, whose implicit delete fires
        # no trigger), so a rewrite takes the UPDATE path.
        """
        CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts (rowid, title, body)
            VALUES (new.rid, new.title, new.body);
        END
        """,
        """
        CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, body)
            VALUES ('delete', old.rid, old.title, old.body);
        END
        """,
        """
        CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles
        WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN
            INSERT INTO articles_fts (articles_fts, rowid, title, body)
            VALUES ('delete', old.rid, old.title, old.body);
            INSERT INTO articles_fts (rowid, title, body)
            VALUES (new.rid, new.title, new.body);
        END
        """,
    ),
    (
        # Version 2: every name an article calls an entity by (canonical name and
        # surface forms, folded by ``entity_name_key``), for ``SearchQuery.entity``.
        """
        CREATE TABLE article_entity_names (
            article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
            name_key   TEXT NOT NULL,
            PRIMARY KEY (article_id, name_key)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX article_entity_names_key ON article_entity_names (name_key, article_id)",
        _fill_entity_names,
    ),
    (
        # Version 3: ``source`` matches in any case ("example news" finds "Example
        # News"); NOCASE folds ASCII letters, as SQLite's own collation does.
        "CREATE INDEX IF NOT EXISTS articles_source_nocase"
        " ON articles (source COLLATE NOCASE, sort_at, id)",
        "DROP INDEX IF EXISTS articles_source",
    ),
    (
        # Version 4: a topic's or an entity's newest articles are a walk down one
        # index that stops at the page's LIMIT, so the rows carry their article's
        # sort time; topic counts come from rollups the sink keeps, not a scan.
        "ALTER TABLE article_topics ADD COLUMN sort_at TEXT NOT NULL DEFAULT ''",
        "UPDATE article_topics SET sort_at ="
        " (SELECT a.sort_at FROM articles AS a WHERE a.id = article_topics.article_id)",
        "ALTER TABLE article_entity_names ADD COLUMN sort_at TEXT NOT NULL DEFAULT ''",
        "UPDATE article_entity_names SET sort_at ="
        " (SELECT a.sort_at FROM articles AS a WHERE a.id = article_entity_names.article_id)",
        _add_person_surnames,
        *WALK_INDEXES,
        """
        CREATE TABLE topic_hour_counts (
            hour  TEXT NOT NULL,
            slug  TEXT NOT NULL,
            label TEXT NOT NULL,
            n     INTEGER NOT NULL,
            PRIMARY KEY (hour, slug, label)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE topic_day_counts (
            day   TEXT NOT NULL,
            slug  TEXT NOT NULL,
            label TEXT NOT NULL,
            n     INTEGER NOT NULL,
            PRIMARY KEY (day, slug, label)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE topic_counts (
            slug  TEXT NOT NULL,
            label TEXT NOT NULL,
            n     INTEGER NOT NULL,
            PRIMARY KEY (slug, label)
        ) WITHOUT ROWID
        """,
        # An article counts once per slug, under its least label for it.
        """
        INSERT INTO topic_hour_counts (hour, slug, label, n)
        SELECT substr(sort_at, 1, 13) || ':00:00Z', slug, label, count(*)
        FROM (SELECT sort_at, slug, min(label) AS label FROM article_topics
              GROUP BY article_id, slug)
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO topic_day_counts (day, slug, label, n)
        SELECT substr(hour, 1, 10) || 'T00:00:00Z', slug, label, sum(n)
        FROM topic_hour_counts GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO topic_counts (slug, label, n)
        SELECT slug, label, sum(n) FROM topic_hour_counts GROUP BY slug, label
        """,
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)
_BACKFILL_BATCH = 500

_UPSERT_ARTICLE = """
    INSERT INTO articles (
        id, sort_at, source, language, published_at, received_at, enriched_at,
        content_hash, url, canonical_url, title, body, doc
    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
        body = excluded.body,
        doc = excluded.doc
    WHERE articles.doc IS NOT excluded.doc
"""
# A redelivered message carries the same document; the WHERE above skips the
# row write and the full-text churn for it.

# An enricher should emit each (name, type) once per article; if one repeats,
# merging keeps the batch (and every other article in it) writable.
_INSERT_ENTITY = """
    INSERT INTO article_entities (article_id, name, name_lower, type, salience, mention_count)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (article_id, name, type) DO UPDATE SET
        salience = max(salience, excluded.salience),
        mention_count = mention_count + excluded.mention_count
"""
# As migration 2 wrote them, before rows carried their article's sort time.
_INSERT_ENTITY_NAME_V2 = """
    INSERT OR IGNORE INTO article_entity_names (article_id, name_key) VALUES (?, ?)
"""
_INSERT_ENTITY_NAME = """
    INSERT OR IGNORE INTO article_entity_names (article_id, name_key, sort_at) VALUES (?, ?, ?)
"""
_INSERT_TOPIC = """
    INSERT INTO article_topics (article_id, qcode, slug, label, relevance, sort_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (article_id, qcode) DO UPDATE SET
        relevance = max(relevance, excluded.relevance)
"""
_STORED_TOPICS = """
    SELECT article_id, sort_at, slug, label FROM article_topics
    WHERE article_id IN (SELECT value FROM json_each(?))
"""
_ADD_HOUR_COUNTS = """
    INSERT INTO topic_hour_counts (hour, slug, label, n) VALUES (?, ?, ?, ?)
    ON CONFLICT (hour, slug, label) DO UPDATE SET n = n + excluded.n
"""
_ADD_DAY_COUNTS = """
    INSERT INTO topic_day_counts (day, slug, label, n) VALUES (?, ?, ?, ?)
    ON CONFLICT (day, slug, label) DO UPDATE SET n = n + excluded.n
"""
_ADD_COUNTS = """
    INSERT INTO topic_counts (slug, label, n) VALUES (?, ?, ?)
    ON CONFLICT (slug, label) DO UPDATE SET n = n + excluded.n
"""

# Rollup hours from the first whole hour after ``since``; the articles before it
# in since's own hour are counted from the base tables (_PARTIAL_HOUR).
_HOURS_SINCE = """
    SELECT ?, slug, label, sum(n) FROM topic_hour_counts
    WHERE hour >= ? AND n > 0 GROUP BY slug, label
"""
_PARTIAL_HOUR = """
    SELECT strftime(?, a.sort_at) AS bucket, t.slug, min(t.label), count(DISTINCT t.article_id)
    FROM articles AS a JOIN article_topics AS t ON t.article_id = a.id
    WHERE a.sort_at >= ? AND a.sort_at < ?
    GROUP BY bucket, t.slug
"""


def _hour(sort_at: str) -> str:
    """The UTC hour bucket of a stored sort time: ``2024-05-01T10:00:00Z``."""
    return sort_at[:13] + ":00:00Z"


def _day(hour: str) -> str:
    """The UTC day bucket of an hour bucket: ``2024-05-01T00:00:00Z``."""
    return hour[:10] + "T00:00:00Z"


def _hour_after(since: datetime) -> str:
    """The first hour bucket starting at or after ``since``."""
    return bucket_text(hour_after(since))


# A time-sorted full-text page first tests the newest candidates one by one against
# the index, in windows that double from twice a page (a common word needs few);
# only when the windows reach _MAX_PROBED candidates without a page of matches does
# it list every match of the words and sort those.
_FIRST_WINDOW_PER_RESULT = 2
_MAX_PROBED = 5_000


def _newest_matches(
    conn: sqlite3.Connection,
    walk: Walk,
    where: list[str],
    params: list[Any],
    match: str,
    want: int,
) -> list[Any] | None:
    """The newest ``want`` ``(doc, sort_at, id)`` rows along ``walk`` matching ``match``
    among its newest ``_MAX_PROBED`` candidates, or None when fewer of those match
    and more candidates remain."""
    source = (
        "articles AS a"
        if walk.table is None
        else f"{walk.table} AS d JOIN articles AS a ON a.id = d.article_id"
    )
    found: dict[str, tuple[int, str, str]] = {}
    window, probed = want * _FIRST_WINDOW_PER_RESULT, 0
    after: list[Any] = []
    while True:
        clauses = where + ([f"({walk.time}, {walk.id}) < (?, ?)"] if after else [])
        candidates = (
            f"SELECT a.rid AS rid, {walk.time} AS sort_at, {walk.id} AS id FROM {source}"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + f" ORDER BY {walk.time} DESC, {walk.id} DESC LIMIT ?"
        )
        sql = (
            f"SELECT c.rid, c.sort_at, c.id, EXISTS (SELECT 1 FROM articles_fts"
            f" WHERE articles_fts MATCH ? AND rowid = c.rid) FROM ({candidates}) AS c"
        )
        rows = conn.execute(sql, [match, *params, *after, window]).fetchall()
        found.update((row[2], row[:3]) for row in rows if row[3])
        probed += len(rows)
        if len(found) >= want or len(rows) < window:
            break  # a page, or every candidate tested
        if probed >= _MAX_PROBED:
            return None
        last = min(rows, key=lambda row: (row[1], row[2]))
        after = [last[1], last[2]]
        window = min(window * 2, _MAX_PROBED - probed)
    top = sorted(found.values(), key=lambda row: (row[1], row[2]), reverse=True)[:want]
    if not top:
        return []
    marks = ", ".join("?" * len(top))
    docs = dict(
        conn.execute(f"SELECT rid, doc FROM articles WHERE rid IN ({marks})", [r[0] for r in top])
    )
    return [(docs[rid], sort_at, article_id) for rid, sort_at, article_id in top]


def _best_matches(conn: sqlite3.Connection, match: str, want: int) -> list[Any] | None:
    """The first ``want`` ``(doc,)`` rows in relevance order (bm25, then newest, then
    id), ranking in the full-text index alone and reading only the rows returned.

    None when rows of equal score straddle the cut, whose order needs every tie.
    """
    ranked = conn.execute(
        "SELECT rowid, bm25(articles_fts, ?, ?) AS score FROM articles_fts"
        " WHERE articles_fts MATCH ? ORDER BY score LIMIT ?",
        [*_BM25_WEIGHTS, match, want + 1],
    ).fetchall()
    if len(ranked) > want and ranked[want][1] == ranked[want - 1][1]:
        return None
    ranked = ranked[:want]
    score = dict(ranked)
    marks = ", ".join("?" * len(ranked))
    rows = conn.execute(
        f"SELECT rid, sort_at, id, doc FROM articles WHERE rid IN ({marks})", list(score)
    ).fetchall()
    # Newest first within a score, then by id descending, as the SQL order gives.
    rows.sort(key=lambda row: row[2], reverse=True)
    rows.sort(key=lambda row: row[1], reverse=True)
    rows.sort(key=lambda row: score[row[0]])
    return [(row[3],) for row in rows]


def _distinct_page(conn: sqlite3.Connection, sql: str, params: list[Any], want: int) -> list[Any]:
    """The first ``want`` rows of ``sql`` (its last parameter the LIMIT) with distinct
    ids (the row's last column). A walk over one slug meets an article twice only
    when two of its topics share the slug; then it reads further."""
    fetch = want
    while True:
        rows = conn.execute(sql, [*params, fetch]).fetchall()
        unique = list({row[-1]: row for row in rows}.values())
        if len(unique) >= want or len(rows) < fetch:
            return unique[:want]
        fetch *= 2


_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


def path_from_url(url: str) -> str:
    """The database path of a ``sqlite:///path`` URL (``sqlite:///:memory:`` for RAM).

    ``sqlite:///data/newsflow.db`` is relative to the working directory,
    ``sqlite:////var/lib/newsflow.db`` absolute. Raises ``ValueError`` naming
    DATABASE_URL when the URL is not of that form.
    """
    if not url.startswith(URL_PREFIX):
        raise ValueError(
            "DATABASE_URL: a SQLite URL has three slashes and a path, "
            "e.g. sqlite:///data/newsflow.db or sqlite:////abs/path/newsflow.db"
        )
    path = url[len(URL_PREFIX) :]
    if not path:
        raise ValueError("DATABASE_URL: the SQLite URL names no file (sqlite:///path/to/file.db)")
    return path


def _is_token_char(char: str) -> bool:
    # The characters FTS5's unicode61 tokenizer keeps (its default categories
    # "L* N* Co"); everything else separates tokens.
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def fts_match_expression(q: str) -> str | None:
    """``q`` (the query language of ``shared.storage._query``: words, ``OR``, ``-word``
    or ``NOT word``, ``"phrases"``, ``prefix*``, English inflections) as a safe FTS5
    MATCH expression, or None if it has no searchable word.

    Every word is a quoted string (inner ``"`` doubled), so ``AND``, ``NEAR(``,
    ``:`` or brackets are text, never syntax. ``ValueError`` when ``q`` only excludes.
    """
    parsed = parse(q, fts5_words)
    return None if parsed is None else fts5(parsed)


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    message = str(exc).lower()
    return "locked" in message or "busy" in message


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, where the busy timeout applies;
    # a deferred transaction that upgrades later can fail at once with BUSY.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _article_row(article: EnrichedArticle) -> tuple[Any, ...]:
    published = utc_text(article.published_at) if article.published_at else None
    received = utc_text(article.received_at)
    return (
        article.id,
        utc_text(sort_time(article.published_at, article.received_at)),
        article.source,
        article.language,
        published,
        received,
        utc_text(article.provenance.enriched_at),
        article.content_hash,
        article.url,
        article.canonical_url,
        article.title,
        article.body,
        codec.dumps(article),
    )


class SQLiteStorage:
    """``Storage`` on a SQLite file (or ``:memory:``), for one process.

    Several processes may open the same file: WAL lets readers run beside the one
    writer, and a writer that waits longer than ``busy_timeout_s`` gets
    ``RetryableError``. Within a process, calls are serialized on one connection.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S):
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        # A threading lock, held by the worker thread itself: if the awaiting task
        # is cancelled, the thread runs on and still keeps the next call out.
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SQLiteStorage:
        """A storage for ``sqlite:///path``; raises ``ValueError`` naming DATABASE_URL."""
        return cls(path_from_url(url), **kwargs)

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"

    # -- lifecycle ---------------------------------------------------------------

    async def open(self) -> None:
        """Open the file (creating its directory) and create or migrate the schema.

        Raises ``RetryableError`` if another process holds the database locked
        for longer than the busy timeout, ``RuntimeError`` if the file's schema is
        newer than this code. Opening an open storage does nothing.
        """
        await asyncio.to_thread(self._open_sync)

    async def close(self) -> None:
        """Close the connection; idempotent."""
        await asyncio.to_thread(self._close_sync)

    def _open_sync(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            if self.path != MEMORY:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # used from worker threads, one at a time
            )
            try:
                (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if mode != "wal" and self.path != MEMORY:
                    # e.g. a network filesystem: still correct, but readers now
                    # wait for the writer.
                    logger.warning("%s: WAL unavailable, journal_mode is %s", self.path, mode)
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
                self._migrate(conn)
            except sqlite3.Error as exc:
                conn.close()
                if _is_busy(exc):
                    raise RetryableError(f"SQLite database {self.path} is busy: {exc}") from exc
                raise
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            logger.debug("opened %s at schema version %d", self.path, SCHEMA_VERSION)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # The common case, a current schema, needs no write lock: the API process
        # then opens at once even while the sink is writing a batch.
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version == SCHEMA_VERSION:
            return
        # Read the version again inside the write transaction, so two processes
        # opening a new file at once do not both create the schema.
        with _transaction(conn):
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has schema version {version}; this newsflow knows "
                    f"up to {SCHEMA_VERSION}. Upgrade newsflow or use another DATABASE_URL."
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for step in _MIGRATIONS[target - 1]:
                    if isinstance(step, str):
                        conn.execute(step)
                    else:
                        step(conn)
                # PRAGMA takes no parameters; ``target`` is our own integer.
                conn.execute(f"PRAGMA user_version = {int(target)}")
                logger.info("migrated %s to schema version %d", self.path, target)

    def _close_sync(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                # Refreshes planner statistics where they are stale; cheap.
                conn.execute("PRAGMA optimize")
            except sqlite3.Error as exc:
                logger.warning("PRAGMA optimize on %s failed: %s", self.path, exc)
            finally:
                conn.close()

    def _locked(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on the connection under the lock, mapping busy to RetryableError."""
        with self._lock:
            if self._conn is None:
                raise RuntimeError(f"{self!r} is not open; await open() first")
            try:
                return work(self._conn)
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise RetryableError(f"SQLite database {self.path} is busy: {exc}") from exc
                raise

    # -- writes ------------------------------------------------------------------

    async def upsert_many(self, articles: Sequence[EnrichedArticle]) -> int:
        """Insert or replace by ``id`` in one transaction; returns distinct ids written.

        A rewrite replaces the row, its entities and topics and its full-text
        entry; nothing is duplicated. Within a batch the last copy of an id wins.
        Raises ``RetryableError`` when the database stays locked past the busy
        timeout; the transaction is then rolled back and nothing is written.
        """
        if not articles:
            return 0
        return await asyncio.to_thread(self._upsert_sync, articles)

    def _upsert_sync(self, articles: Sequence[EnrichedArticle]) -> int:
        started = time.perf_counter()
        latest = {article.id: article for article in articles}
        # Encoding is CPU work that needs no connection; do it before taking the lock.
        article_rows = [_article_row(article) for article in latest.values()]
        ids = [(article_id,) for article_id in latest]
        sort_at = {row[0]: row[1] for row in article_rows}
        entity_rows = [
            (a.id, e.name, fold_entity_name(e.name), e.type, e.salience, e.mention_count)
            for a in latest.values()
            for e in a.entities
        ]
        name_rows = sorted(
            (*row, sort_at[row[0]])
            for a in latest.values()
            for row in entity_name_rows(a.id, a.entities)
        )
        topic_rows = [
            (a.id, t.qcode, t.slug, t.label, t.relevance, sort_at[a.id])
            for a in latest.values()
            for t in a.topics
        ]
        # The first row of an (article, qcode) is the one stored (see _INSERT_TOPIC).
        stored_topics = {(r[0], r[1]): (r[0], _hour(r[5]), r[2], r[3]) for r in topic_rows[::-1]}

        def write(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                old = [
                    (article_id, _hour(at), slug, label)
                    for article_id, at, slug, label in conn.execute(
                        _STORED_TOPICS, (orjson.dumps(list(latest)).decode(),)
                    )
                ]
                delta = topic_rollup_delta(old, stored_topics.values())
                conn.executemany(_UPSERT_ARTICLE, article_rows)
                conn.executemany("DELETE FROM article_entities WHERE article_id = ?", ids)
                conn.executemany("DELETE FROM article_entity_names WHERE article_id = ?", ids)
                conn.executemany("DELETE FROM article_topics WHERE article_id = ?", ids)
                conn.executemany(_INSERT_ENTITY, entity_rows)
                conn.executemany(_INSERT_ENTITY_NAME, name_rows)
                conn.executemany(_INSERT_TOPIC, topic_rows)
                conn.executemany(_ADD_HOUR_COUNTS, [(*key, n) for key, n in delta.items()])
                days = by_day(delta, _day)
                conn.executemany(_ADD_DAY_COUNTS, [(*key, n) for key, n in days.items()])
                conn.executemany(_ADD_COUNTS, [(*key, n) for key, n in slug_totals(delta).items()])

        self._locked(write)
        logger.debug(
            "upserted %d articles (%d entities, %d topics) in %.1f ms",
            len(article_rows),
            len(entity_rows),
            len(topic_rows),
            (time.perf_counter() - started) * 1000,
        )
        return len(article_rows)

    # -- reads -------------------------------------------------------------------

    async def get(self, article_id: str) -> EnrichedArticle | None:
        """The stored document, or None. A stored document that no longer validates
        raises ``pydantic.ValidationError``."""
        return await asyncio.to_thread(self._get_sync, article_id)

    def _get_sync(self, article_id: str) -> EnrichedArticle | None:
        row = self._locked(
            lambda conn: conn.execute(
                "SELECT doc FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
        )
        return None if row is None else codec.loads(EnrichedArticle, row[0])

    async def count(self) -> int:
        """How many articles are stored."""
        return await asyncio.to_thread(
            self._locked,
            lambda conn: int(conn.execute("SELECT count(*) FROM articles").fetchone()[0]),
        )

    async def search(self, query: SearchQuery) -> SearchPage:
        """Articles matching every filter of ``query``, newest first, one page.

        Raises ``ValueError`` naming ``cursor`` for a cursor this storage did not
        issue. ``q`` is always taken as plain words (see ``fts_match_expression``);
        a ``q`` with no letter or digit in it matches nothing.
        """
        return await asyncio.to_thread(self._search_sync, query)

    def _search_sync(self, query: SearchQuery) -> SearchPage:
        check_relevance_sort(query.q, query.sort)
        match: str | None = None
        if query.q is not None:
            match = fts_match_expression(query.q)
            if match is None:
                return SearchPage(items=[])
        if query.sort == "relevance":
            assert match is not None
            return self._relevance_page(query, match)
        cursor = decode_cursor(query.cursor) if query.cursor is not None else None
        rows: list[Any] = []
        for walk in search_walks(query):
            rows += self._walk(query, walk, match, cursor)
        page, more = newest_page(rows, query.limit)
        items = [codec.loads(EnrichedArticle, row[0]) for row in page]
        next_cursor = encode_cursor(page[-1][1], page[-1][2]) if more else None
        return SearchPage(items=items, next_cursor=next_cursor)

    def _walk(
        self, query: SearchQuery, walk: Walk, match: str | None, cursor: tuple[str, str] | None
    ) -> list[Any]:
        """Up to ``limit + 1`` distinct ``(doc, sort_at, id)`` rows along ``walk``."""
        where, params = search_filters(
            query, "?", utc_text, source_sql="a.source = ? COLLATE NOCASE", walk=walk
        )
        if cursor is not None:
            where.append(f"({walk.time}, {walk.id}) < (?, ?)")
            params += cursor
        want = query.limit + 1
        if match is not None:
            probed = self._locked(
                lambda conn: _newest_matches(conn, walk, where, params, match, want)
            )
            if probed is not None:
                return probed
            # A rarer match: its rows are fewer than the candidates, so find them all.
            where.append("a.rid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            params.append(match)
        # Only fixed fragments above are joined into the SQL; every value is a parameter.
        # One extra row tells whether another page exists without a second query.
        if walk.table is None:
            # The inner query picks the page by key alone, so a sort it may need
            # carries row ids, not 6 KB documents.
            sql = (
                "SELECT a.doc, a.sort_at, a.id FROM articles AS a WHERE a.rid IN"
                " (SELECT a.rid FROM articles AS a"
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY a.sort_at DESC, a.id DESC LIMIT ?)"
            )
        else:
            # A backward walk down (column, sort_at, article_id), joined row by row.
            sql = (
                f"SELECT a.doc, d.sort_at, d.article_id FROM {walk.table} AS d"
                " JOIN articles AS a ON a.id = d.article_id WHERE "
                + " AND ".join(where)
                + " ORDER BY d.sort_at DESC, d.article_id DESC LIMIT ?"
            )

        def fetch(conn: sqlite3.Connection) -> list[Any]:
            try:
                return _distinct_page(conn, sql, params, want)
            except sqlite3.OperationalError as exc:
                # Should not happen given fts_match_expression; never leak FTS syntax.
                if "fts5" in str(exc).lower():
                    raise ValueError(f"q: cannot search for {query.q!r} ({exc})") from exc
                raise

        return self._locked(fetch)

    def _relevance_page(self, query: SearchQuery, match: str) -> SearchPage:
        offset = decode_offset_cursor(query.cursor) if query.cursor else 0
        where, params = search_filters(
            query, "?", utc_text, source_sql="a.source = ? COLLATE NOCASE"
        )
        # bm25 is lower for a better match; ties newest first, then by id, so
        # the order (and with it every offset page) is total.
        sql = (
            "SELECT a.doc FROM articles_fts JOIN articles AS a ON a.rid = articles_fts.rowid"
            " WHERE articles_fts MATCH ?"
            + "".join(" AND " + clause for clause in where)
            + " ORDER BY bm25(articles_fts, ?, ?), a.sort_at DESC, a.id DESC LIMIT ? OFFSET ?"
        )
        rel_params = [match, *params, *_BM25_WEIGHTS, query.limit + 1, offset]

        def read(conn: sqlite3.Connection) -> list[Any]:
            if not where:
                ranked = _best_matches(conn, match, offset + query.limit + 1)
                if ranked is not None:
                    return ranked[offset:]
            return conn.execute(sql, rel_params).fetchall()

        rows = self._locked(read)
        more = len(rows) > query.limit
        return SearchPage(
            items=[codec.loads(EnrichedArticle, row[0]) for row in rows[: query.limit]],
            next_cursor=encode_offset_cursor(offset + query.limit) if more else None,
        )

    async def top_entities(self, since: datetime | None, limit: int) -> list[tuple[str, str, int]]:
        """``(name, type, article count)``, most articles first, at most ``limit``.

        Raises ``ValueError`` if ``limit`` is below 1.
        """
        if limit < 1:
            raise ValueError(f"limit: must be at least 1, got {limit}")
        join, params = self._since_join("e", since)
        # count(DISTINCT) because name_lower groups names that differ only by case.
        sql = (
            "SELECT min(e.name), e.type, count(DISTINCT e.article_id) AS n"
            f" FROM article_entities AS e{join}"
            " GROUP BY e.name_lower, e.type ORDER BY n DESC, e.name_lower, e.type LIMIT ?"
        )
        rows = await asyncio.to_thread(
            self._locked, lambda conn: conn.execute(sql, [*params, limit]).fetchall()
        )
        return [(str(name), str(type_), int(n)) for name, type_, n in rows]

    async def topic_counts(self, since: datetime | None) -> list[tuple[str, str, int]]:
        """``(slug, label, article count)`` for every topic in use, most articles first."""
        if since is None:
            sql, args = "SELECT '', slug, label, n FROM topic_counts WHERE n > 0", []
        else:
            sql, args = _HOURS_SINCE, ["", _hour_after(since)]
        rows = await asyncio.to_thread(self._counts, sql, args, since, "")
        return [(slug, label, n) for _, slug, label, n in rows]

    async def topic_counts_by_interval(
        self, since: datetime | None, interval: Literal["hour", "day"]
    ) -> list[tuple[str, str, str, int]]:
        """``(bucket start, slug, label, article count)``, oldest bucket first."""
        if interval not in _BUCKETS:
            raise ValueError(f"interval: must be 'hour' or 'day', not {interval!r}")
        hour_from = "" if since is None else _hour_after(since)
        if interval == "hour":
            sql = "SELECT hour, slug, label, n FROM topic_hour_counts WHERE hour >= ? AND n > 0"
            args = [hour_from]
        else:
            # Whole days from the day rollup; the hours before the first of them
            # from the hour rollup (and the first, partial hour from the articles).
            day_from = "" if since is None else bucket_text(day_after(since))
            sql = (
                "SELECT day, slug, label, n FROM topic_day_counts WHERE day >= ? AND n > 0"
                " UNION ALL SELECT substr(hour, 1, 10) || 'T00:00:00Z', slug, label, n"
                " FROM topic_hour_counts WHERE hour >= ? AND hour < ? AND n > 0"
            )
            args = [day_from, hour_from, day_from]
        return await asyncio.to_thread(self._counts, sql, args, since, _BUCKETS[interval])

    def _counts(
        self, sql: str, args: list[Any], since: datetime | None, pattern: str
    ) -> list[tuple[str, str, str, int]]:
        """Rollup rows from ``sql``, plus the articles of the hour ``since`` falls in
        (counted from the base tables), merged per bucket ``pattern`` ('' for none)."""
        partial: list[Any] = []

        def read(conn: sqlite3.Connection) -> list[Any]:
            rows = conn.execute(sql, args).fetchall()
            if since is not None:
                partial.extend(
                    conn.execute(
                        _PARTIAL_HOUR, [pattern, utc_text(since), utc_text(hour_after(since))]
                    )
                )
            return rows

        rows = self._locked(read)
        return merge_counts(
            (str(b), str(slug), str(label), int(n)) for b, slug, label, n in rows + partial
        )

    @staticmethod
    def _since_join(alias: str, since: datetime | None) -> tuple[str, list[Any]]:
        return since_join(alias, since, "?", utc_text)
