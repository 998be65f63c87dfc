"""The storage interface every backend implements (SQLite now, PostgreSQL next).

Nothing here names a backend: ``SearchQuery`` and ``SearchPage`` are what the CLI
and the HTTP API pass around, and ``Storage`` is what the sink writes through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from shared.models import EnrichedArticle, UtcDatetime

MAX_SEARCH_LIMIT = 500


class SearchQuery(BaseModel):
    """Filters of ``newsflow search`` and ``GET /v1/search``; all optional, AND-ed.

    - ``topic``: a slug (``politics``) or a QCode (``medtop:11000000``).
    - ``entity``: an entity's canonical name or any name the article called it by
      (``Trump`` finds an article whose entity is "Donald Trump" when it wrote
      "Trump"), matched whole, with case, accents and dots ignored (``zurich``
      finds "Zürich", ``US`` finds "U.S.").
    - ``q``: full-text words. Every word must occur (in the title or the body); a
      word ending in ``*`` matches as a prefix (``elect*``). Anything else, quotes
      and operators included, is plain text, never query syntax.
    - ``since`` / ``until``: ``since <= t < until`` where ``t`` is ``published_at``,
      else ``received_at``. Naive datetimes are taken as UTC.
    - ``source``: the source name, in any case.
    - ``language``: a code compared as articles store it, lower case with ``-``
      (``EN_us`` finds ``en-us``).

    Blank strings count as absent. ``sort="time"`` (the default) gives newest first
    (``t`` descending, then ``id`` descending); ``sort="relevance"`` gives the best
    full-text matches of ``q`` first (SQLite FTS5 ``bm25``, title weighted above
    body; PostgreSQL ``ts_rank_cd``), ties newest first, and needs ``q``: without
    it ``search`` raises ``ValueError`` naming ``sort``. ``cursor`` is the opaque
    ``next_cursor`` of the previous page of the same query and sort. Time cursors
    are keyset positions, stable while new articles arrive; relevance cursors are
    offsets into the ranking, so articles stored between two pages may shift it.
    """

    topic: str | None = None
    entity: str | None = None
    q: str | None = Field(default=None, max_length=500)
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    source: str | None = None
    language: str | None = None
    limit: int = Field(default=20, ge=1, le=MAX_SEARCH_LIMIT)
    cursor: str | None = None
    sort: Literal["time", "relevance"] = "time"

    @field_validator("topic", "entity", "q", "source", "language", "cursor")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        # HTML forms and query strings send ``?topic=`` for an empty field.
        if value is None or not value.strip():
            return None
        # No database stores these in text (PostgreSQL rejects NUL, SQLite's
        # UTF-8 cannot hold a lone surrogate), so no article could ever match.
        if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
            raise ValueError("must not contain NUL or unpaired surrogate characters")
        return value.strip()


class SearchPage(BaseModel):
    """One page of results; ``next_cursor`` is set only when more results exist."""

    items: list[EnrichedArticle]
    next_cursor: str | None = None


class Storage(Protocol):
    """Idempotent document storage.

    ``open()`` must be awaited before any other method. Every method may raise
    ``RetryableError`` when the database is busy or unreachable for a while.
    """

    async def open(self) -> None:
        """Connect and create or migrate the schema."""

    async def close(self) -> None:
        """Release the connection; calling it twice is harmless."""

    async def upsert_many(self, articles: Sequence[EnrichedArticle]) -> int:
        """Insert or replace by ``id`` in one transaction; returns how many were written.

        Writing the same article twice leaves one row, as after writing it once;
        a new version of an article replaces the old one everywhere (entities,
        topics, full-text index). When one batch holds the same ``id`` twice the
        last one wins; the count is of distinct ids.
        """

    async def get(self, article_id: str) -> EnrichedArticle | None:
        """The stored document, or None when no article has that id."""

    async def search(self, query: SearchQuery) -> SearchPage:
        """Articles matching every filter of ``query``, newest first.

        Raises ``ValueError`` naming the field (``cursor``, ``q``) when a value
        cannot be used; free text in ``q`` never raises a syntax error.
        """

    async def count(self) -> int:
        """How many articles are stored."""

    async def top_entities(self, since: datetime | None, limit: int) -> list[tuple[str, str, int]]:
        """``(name, type, article count)`` of the most mentioned entities, most first.

        Canonical names only (an entity counts once per article, under its
        canonical name, whatever its surface forms), grouped case-insensitively;
        ``since`` filters on the same time as search. Ties break by name.
        """

    async def topic_counts(self, since: datetime | None) -> list[tuple[str, str, int]]:
        """``(slug, label, article count)`` for every topic in use, most articles first."""

    async def topic_counts_by_interval(
        self, since: datetime | None, interval: Literal["hour", "day"]
    ) -> list[tuple[str, str, str, int]]:
        """``(bucket start, slug, label, article count)`` per UTC hour or day bucket.

        The bucket start is ISO-8601 UTC (``2024-05-01T10:00:00Z``); ``since``
        filters on the same time as search and the buckets use that time too.
        Oldest bucket first, then most articles first, then slug. Raises
        ``ValueError`` naming ``interval`` for anything but ``hour`` or ``day``.
        """
