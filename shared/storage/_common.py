"""What every storage backend does the same way: cursors, name and time keys.

A cursor is the same for every backend (the sort time as fixed-width UTC text and
the article id), so a page fetched from one backend can be continued on another
holding the same articles.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from shared.models import entity_name_key, entity_name_keys
from shared.streams import slugify

if TYPE_CHECKING:
    from shared.storage.base import SearchQuery

_BAD_CURSOR = "cursor: not a next_cursor returned by a previous search"


def fold_entity_name(name: str) -> str:
    """The key that makes entity names match case-insensitively (Unicode casefold)."""
    return name.casefold()


def entity_name_rows(article_id: str, entities: Iterable[Any]) -> set[tuple[str, str]]:
    """``(article_id, name_key)`` of every canonical name and surface form.

    ``entities`` are ``Entity`` models or their JSON objects (a stored document
    read back during a migration), so old documents need not validate.
    """
    rows: set[tuple[str, str]] = set()
    for entity in entities:
        if isinstance(entity, Mapping):
            name, forms = entity.get("name"), entity.get("surface_forms") or ()
            kind = entity.get("type")
        else:
            name, forms, kind = entity.name, entity.surface_forms, entity.type
        if not isinstance(name, str):
            continue
        texts = [form for form in forms if isinstance(form, str)]
        keys = entity_name_keys(name, texts, kind if isinstance(kind, str) else None)
        rows.update((article_id, key) for key in keys)
    return rows


def normalize_language(language: str) -> str:
    """A language code as articles store it: ``en_US`` -> ``en-us``."""
    # Mirrors shared.normalize, so "en_US" finds articles stored as "en-us".
    return language.lower().replace("_", "-")


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_text(value: datetime) -> str:
    """UTC ISO-8601 with a fixed width, so text order is time order."""
    naive = as_utc(value).replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds") + "Z"


def _pack(value: list[Any]) -> str:
    """A JSON list as unpadded URL-safe base64: the opaque form of every cursor."""
    return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode("ascii")


def _unpack(cursor: str) -> Any:
    """The JSON value inside a cursor; raises ``ValueError`` naming ``cursor``."""
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(_BAD_CURSOR) from exc


def encode_cursor(sort_at: str, article_id: str) -> str:
    """An opaque, URL-safe cursor for the position after ``(sort_at, article_id)``."""
    return _pack([sort_at, article_id])


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The ``(sort_at, id)`` in a cursor; raises ``ValueError`` naming ``cursor``."""
    value = _unpack(cursor)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, str) for part in value)
    ):
        raise ValueError(_BAD_CURSOR)
    return value[0], value[1]


def decode_cursor_time(cursor: str) -> tuple[datetime, str]:
    """The cursor's position with its time parsed (UTC); ``ValueError`` naming ``cursor``."""
    sort_at, article_id = decode_cursor(cursor)
    try:
        when = datetime.fromisoformat(sort_at)
    except ValueError as exc:
        raise ValueError(_BAD_CURSOR) from exc
    return as_utc(when), article_id


def encode_offset_cursor(offset: int) -> str:
    """An opaque cursor for relevance-sorted pages: the number of results already seen.

    It cannot be mistaken for a time cursor (a list of two strings), nor one for it.
    """
    return _pack([offset])


def decode_offset_cursor(cursor: str) -> int:
    """The offset in a relevance cursor; raises ``ValueError`` naming ``cursor``."""
    value = _unpack(cursor)
    if (
        not isinstance(value, list)
        or len(value) != 1
        or not isinstance(value[0], int)
        or isinstance(value[0], bool)
        or value[0] < 0
    ):
        raise ValueError(_BAD_CURSOR)
    return value[0]


def check_relevance_sort(q: str | None, sort: str) -> None:
    """``ValueError`` naming ``sort`` when relevance order is asked for without ``q``."""
    if sort == "relevance" and q is None:
        raise ValueError("sort: 'relevance' needs full-text words in q; use sort=time without q")


def hour_after(value: datetime) -> datetime:
    """The first whole UTC hour at or after ``value``."""
    value = as_utc(value)
    floor = value.replace(minute=0, second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(hours=1)


def day_after(value: datetime) -> datetime:
    """The first whole UTC day at or after ``value``."""
    value = as_utc(value)
    floor = value.replace(hour=0, minute=0, second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(days=1)


def bucket_text(value: datetime) -> str:
    """A bucket start as ISO-8601 UTC with seconds: ``2024-05-01T10:00:00Z``."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


# Schema version 4 on both backends: the indexes a time-sorted page of a topic or
# an entity walks (replacing the key-only ones). A released migration step; never edit.
WALK_INDEXES = (
    "CREATE INDEX article_topics_slug_time ON article_topics (slug, sort_at, article_id)",
    "CREATE INDEX article_topics_qcode_time ON article_topics (qcode, sort_at, article_id)",
    "CREATE INDEX article_entity_names_time"
    " ON article_entity_names (name_key, sort_at, article_id)",
    "DROP INDEX IF EXISTS article_topics_slug",
    "DROP INDEX IF EXISTS article_topics_qcode",
    "DROP INDEX IF EXISTS article_entity_names_key",
)


class Walk(NamedTuple):
    """Where a newest-first page is read from: ``table AS d`` in the order of its
    index ``(column, sort_at, article_id)``, for the rows whose ``column`` is ``value``.

    ``table`` None means ``articles AS a`` itself (``d`` is then ``a``, keyed by ``id``).
    Each of these reads stops at the page's LIMIT instead of sorting every match.
    """

    table: str | None
    column: str | None
    value: str | None

    @property
    def time(self) -> str:
        return "a.sort_at" if self.table is None else "d.sort_at"

    @property
    def id(self) -> str:
        return "a.id" if self.table is None else "d.article_id"


ARTICLES = Walk(None, None, None)


def search_walks(query: SearchQuery) -> list[Walk]:
    """The index walks whose merged pages answer ``query`` sorted by time.

    A topic is a slug or a QCode, so it is two walks (the QCode one usually empty);
    an entity is one walk over its folded name; otherwise the articles themselves.
    """
    if query.topic is not None:
        # Slugs are lower case; slugifying also lets a label ("Conflict, war and
        # peace") find its topic.
        return [
            Walk("article_topics", "slug", slugify(query.topic)),
            Walk("article_topics", "qcode", query.topic),
        ]
    if query.entity is not None:
        # The canonical names and surface forms of every entity, folded: "Trump"
        # finds "Donald Trump" when the article called him so.
        return [Walk("article_entity_names", "name_key", entity_name_key(query.entity))]
    return [ARTICLES]


def newest_page(rows: Iterable[Sequence[Any]], limit: int) -> tuple[list[Sequence[Any]], bool]:
    """The first ``limit`` of ``(doc, sort_at, id)`` rows found by several walks,
    newest first, an article found twice (its slug and its QCode) once; and whether
    more follow."""
    unique = {row[2]: row for row in rows}
    ordered = sorted(unique.values(), key=lambda row: (row[1], row[2]), reverse=True)
    return ordered[:limit], len(ordered) > limit


def search_filters(
    query: SearchQuery,
    mark: str,
    when: Callable[[datetime], Any],
    *,
    source_sql: str,
    walk: Walk = ARTICLES,
) -> tuple[list[str], list[Any]]:
    """The WHERE clauses both backends share (topic, entity, since, until, source,
    language) over ``articles AS a`` read along ``walk``, with ``mark`` as each
    value's placeholder (``?`` or ``%s``), ``when`` turning a time into the column's
    value and ``source_sql`` the backend's case-insensitive test of ``source`` (one
    placeholder). A filter the walk does not answer is a lookup by article id.

    Only these fixed fragments go into the SQL; every value is a parameter.
    """
    where: list[str] = []
    params: list[Any] = []
    if walk.table is not None:
        where.append(f"d.{walk.column} = {mark}")
        params.append(walk.value)
    if query.topic is not None and walk.table != "article_topics":
        where.append(
            "EXISTS (SELECT 1 FROM article_topics AS t WHERE t.article_id = a.id"
            f" AND (t.slug = {mark} OR t.qcode = {mark}))"
        )
        params += [slugify(query.topic), query.topic]
    if query.entity is not None and walk.table != "article_entity_names":
        where.append(
            "EXISTS (SELECT 1 FROM article_entity_names AS n WHERE n.article_id = a.id"
            f" AND n.name_key = {mark})"
        )
        params.append(entity_name_key(query.entity))
    if query.since is not None:
        where.append(f"{walk.time} >= {mark}")
        params.append(when(query.since))
    if query.until is not None:
        where.append(f"{walk.time} < {mark}")
        params.append(when(query.until))
    if query.source is not None:
        where.append(source_sql)
        params.append(query.source)
    if query.language is not None:
        where.append(f"a.language = {mark}")
        params.append(normalize_language(query.language))
    return where, params


def since_join(
    alias: str, since: datetime | None, mark: str, when: Callable[[datetime], Any]
) -> tuple[str, list[Any]]:
    """A join of ``alias``'s ``article_id`` to ``articles AS a`` keeping the rows of
    articles at or after ``since`` (nothing when it is None); ``mark``/``when`` as for
    ``search_filters``."""
    if since is None:
        return "", []
    return (
        f" JOIN articles AS a ON a.id = {alias}.article_id WHERE a.sort_at >= {mark}",
        [when(since)],
    )


# -- topic count rollups ---------------------------------------------------------------
#
# The sink keeps two tables of article counts: per (UTC hour, slug, label) and per
# (slug, label). An article counts once per slug, under the least of its labels for
# that slug, so summing a slug's rows gives ``count(DISTINCT article_id)`` and the
# least label of rows still counted is ``min(label)``, as the base tables give.


def topic_rollup_delta(
    old: Iterable[tuple[str, Any, str, str]], new: Iterable[tuple[str, Any, str, str]]
) -> dict[tuple[Any, str, str], int]:
    """``(hour, slug, label) -> change in article count`` when the topic rows
    ``(article_id, hour, slug, label)`` in ``old`` are replaced by those in ``new``."""
    delta: dict[tuple[Any, str, str], int] = {}
    for rows, sign in ((old, -1), (new, 1)):
        least: dict[tuple[str, str], tuple[Any, str]] = {}
        for article_id, hour, slug, label in rows:
            seen = least.get((article_id, slug))
            if seen is None or label < seen[1]:
                least[(article_id, slug)] = (hour, label)
        for (_, slug), (hour, label) in least.items():
            key = (hour, slug, label)
            delta[key] = delta.get(key, 0) + sign
    return {key: n for key, n in sorted(delta.items()) if n}


def by_day(
    delta: dict[tuple[Any, str, str], int], day_of: Callable[[Any], Any]
) -> dict[tuple[Any, str, str], int]:
    """The ``(day, slug, label)`` changes of an hourly ``topic_rollup_delta``."""
    days: dict[tuple[Any, str, str], int] = {}
    for (hour, slug, label), n in delta.items():
        key = (day_of(hour), slug, label)
        days[key] = days.get(key, 0) + n
    return {key: n for key, n in sorted(days.items()) if n}


def slug_totals(delta: dict[tuple[Any, str, str], int]) -> dict[tuple[str, str], int]:
    """The ``(slug, label)`` changes of an hourly ``topic_rollup_delta``."""
    totals: dict[tuple[str, str], int] = {}
    for (_, slug, label), n in delta.items():
        totals[(slug, label)] = totals.get((slug, label), 0) + n
    return {key: n for key, n in sorted(totals.items()) if n}


def merge_counts(rows: Iterable[tuple[str, str, str, int]]) -> list[tuple[str, str, str, int]]:
    """``(bucket, slug, label, n)`` rows of disjoint sets of articles summed per
    (bucket, slug) with the least label: oldest bucket first, then most articles
    first, then slug. Rows whose count is 0 (all their articles rewritten) drop out."""
    merged: dict[tuple[str, str], list[Any]] = {}
    for bucket, slug, label, n in rows:
        if n <= 0:
            continue
        entry = merged.setdefault((bucket, slug), [label, 0])
        entry[0] = min(entry[0], label)
        entry[1] += n
    out = [(bucket, slug, label, n) for (bucket, slug), (label, n) in merged.items()]
    out.sort(key=lambda row: (row[0], -row[3], row[1]))
    return out
