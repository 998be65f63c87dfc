"""Saved filter subscriptions: named filters whose matching articles get their own stream.

A ``SavedFilter`` names topics, entities, keywords, a language and a source; an
enriched article matches when it meets every criterion given (an empty criterion
matches everything). Filters live in the Redis hash ``<prefix>subscriptions``
(field: the name, value: the filter's JSON). The enrich worker writes each
article that matches a filter to ``<prefix>subs:<name>`` as it passes (its
runtime loads the filters through ``SubscriptionIndex``; ``matching`` is pure),
so a subscriber reads that stream like a topic stream.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.models import EnrichedArticle, entity_name_key, entity_name_keys
from shared.streams import StreamNames

log = logging.getLogger(__name__)

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_WORD = re.compile(r"\w+")
MAX_TERMS = 100

Term = Annotated[str, Field(min_length=1, max_length=200)]


class SavedFilter(BaseModel):
    """A named filter over enriched articles; every criterion given must hold."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    topics: Annotated[list[Term], Field(max_length=MAX_TERMS)] = Field(default_factory=list)
    topics_mode: Literal["any", "all"] = "any"
    entities: Annotated[list[Term], Field(max_length=MAX_TERMS)] = Field(default_factory=list)
    keywords: Annotated[list[Term], Field(max_length=MAX_TERMS)] = Field(default_factory=list)
    language: Annotated[str, Field(min_length=1, max_length=35)] | None = None
    source: Annotated[str, Field(min_length=1, max_length=500)] | None = None

    @field_validator("topics", "entities", "keywords")
    @classmethod
    def _dedupe(cls, values: list[str]) -> list[str]:
        # Items are already stripped (str_strip_whitespace); drop repeats, keep the order.
        return list(dict.fromkeys(values))

    def matches(self, doc: EnrichedArticle) -> bool:
        """True when ``doc`` meets every criterion of the filter."""
        return Matcher.of(self).matches(DocFeatures.of(doc))


def _language(code: str) -> str:
    return code.lower().replace("_", "-")


def _phrase(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


@dataclass(frozen=True, slots=True)
class DocFeatures:
    """What saved filters look at in one article, folded as they compare it."""

    language: str
    source: str
    topics: frozenset[str]  # slugs and QCodes, lower case
    entities: frozenset[str]  # entity name keys of every name and surface form
    keywords: frozenset[str]  # casefolded
    title: str  # the title's words, casefolded, padded with spaces

    @classmethod
    def of(cls, doc: EnrichedArticle) -> DocFeatures:
        entities: set[str] = set()
        for entity in doc.entities:
            entities |= entity_name_keys(entity.name, entity.surface_forms, entity.type)
        return cls(
            language=_language(doc.language or ""),
            source=(doc.source or "").lower(),
            topics=frozenset(
                {t.slug.lower() for t in doc.topics} | {t.qcode.lower() for t in doc.topics}
            ),
            entities=frozenset(entities),
            keywords=frozenset(k.casefold() for k in doc.keywords),
            title=f" {_phrase(doc.title)} ",
        )


@dataclass(frozen=True, slots=True)
class Matcher:
    """A saved filter with its criteria folded once, as ``DocFeatures`` are."""

    name: str
    language: str | None
    source: str | None
    topics: tuple[str, ...]
    all_topics: bool
    entities: tuple[str, ...]
    keywords: tuple[str, ...]
    phrases: tuple[str, ...]  # padded with spaces

    @classmethod
    def of(cls, sub: SavedFilter) -> Matcher:
        phrases = (_phrase(k) for k in sub.keywords)
        return cls(
            name=sub.name,
            language=None if sub.language is None else _language(sub.language),
            source=None if sub.source is None else sub.source.lower(),
            topics=tuple(t.lower() for t in sub.topics),
            all_topics=sub.topics_mode == "all",
            entities=tuple(entity_name_key(e) for e in sub.entities),
            keywords=tuple(k.casefold() for k in sub.keywords),
            phrases=tuple(f" {p} " for p in phrases if p),
        )

    def matches(self, doc: DocFeatures) -> bool:
        """Every criterion holds (an empty one holds for every article)."""
        want = self.language
        if want is not None and doc.language != want and not doc.language.startswith(want + "-"):
            return False
        if self.source is not None and doc.source != self.source:
            return False
        # A topic is named by its slug or its QCode.
        if self.topics:
            held = doc.topics
            if self.all_topics:
                if not all(t in held for t in self.topics):
                    return False
            elif not any(t in held for t in self.topics):
                return False
        # As search: a canonical name or any surface form, folded.
        if self.entities and not any(e in doc.entities for e in self.entities):
            return False
        if self.keywords:
            # A keyword of the article, or a phrase of whole words of its title.
            return any(k in doc.keywords for k in self.keywords) or any(
                p in doc.title for p in self.phrases
            )
        return True


class FilterIndex:
    """Saved filters indexed by one required criterion each, so an article is checked
    against the few filters it could match, not against all of them.

    Each filter is filed under the most selective criterion it has: its source, else
    its topics (each of them; one is enough in ``all`` mode), else its entities, else
    its keywords (each keyword, and each word of the keyword for title phrases), else
    its language; a filter with no criterion is checked against every article.
    """

    def __init__(self, filters: Iterable[SavedFilter]) -> None:
        ordered = sorted(filters, key=lambda f: f.name)
        self.filters: list[SavedFilter] = ordered
        self._filters = [Matcher.of(f) for f in ordered]
        self._always: list[int] = []
        self._by: dict[str, dict[str, list[int]]] = {
            kind: defaultdict(list)
            for kind in ("source", "topic", "entity", "keyword", "word", "language")
        }
        for number, sub in enumerate(ordered):
            keys = _index_keys(sub)
            for kind, value in keys:
                self._by[kind][value].append(number)
            if not keys:
                self._always.append(number)

    def __len__(self) -> int:
        return len(self._filters)

    def __iter__(self) -> Iterator[SavedFilter]:
        """The filters, in name order."""
        return iter(self.filters)

    def matching(self, doc: EnrichedArticle) -> list[str]:
        """The names of the filters ``doc`` matches, in name order."""
        if not self._filters:
            return []  # most installs save none: no features to compute per article
        features = DocFeatures.of(doc)
        by = self._by
        candidates = set(self._always)
        candidates.update(by["source"].get(features.source, ()))
        for topic in features.topics:
            candidates.update(by["topic"].get(topic, ()))
        for name in features.entities:
            candidates.update(by["entity"].get(name, ()))
        for keyword in features.keywords:
            candidates.update(by["keyword"].get(keyword, ()))
        for word in features.title.split():
            candidates.update(by["word"].get(word, ()))
        # "en" and "en-us" both match an article in "en-us-x-twain".
        parts = features.language.split("-")
        for end in range(1, len(parts) + 1):
            candidates.update(by["language"].get("-".join(parts[:end]), ()))
        return [
            self._filters[n].name for n in sorted(candidates) if self._filters[n].matches(features)
        ]


def _index_keys(sub: SavedFilter) -> list[tuple[str, str]]:
    """Where ``sub`` is filed in a ``FilterIndex`` (empty: checked against every article)."""
    if sub.source is not None:
        return [("source", sub.source.lower())]
    if sub.topics:
        topics = sub.topics[:1] if sub.topics_mode == "all" else sub.topics
        return [("topic", t.lower()) for t in topics]
    if sub.entities:
        return [("entity", entity_name_key(e)) for e in sub.entities]
    if sub.keywords:
        keys = [("keyword", k.casefold()) for k in sub.keywords]
        # A title phrase holds all of its words: filing it under its first is enough.
        keys += [("word", p.split()[0]) for k in sub.keywords if (p := _phrase(k))]
        return keys
    if sub.language is not None:
        return [("language", _language(sub.language))]
    return []


def key(names: StreamNames) -> str:
    """The Redis hash holding every saved filter."""
    return f"{names.prefix}subscriptions"


def _parse(name: Any, raw: Any) -> SavedFilter | None:
    try:
        return SavedFilter.model_validate_json(raw)
    except ValidationError as exc:
        log.warning("saved filter %r is unreadable; ignored: %s", name, exc)
        return None


async def save(client: Any, names: StreamNames, sub: SavedFilter, *, replace: bool = False) -> bool:
    """Store ``sub``; False (nothing written) when the name exists and not ``replace``."""
    data = sub.model_dump_json()
    if replace:
        await client.hset(key(names), sub.name, data)
        return True
    return bool(await client.hsetnx(key(names), sub.name, data))


async def get(client: Any, names: StreamNames, name: str) -> SavedFilter | None:
    """The saved filter called ``name``, or None."""
    raw = await client.hget(key(names), name)
    return None if raw is None else _parse(name, raw)


async def list_all(client: Any, names: StreamNames) -> list[SavedFilter]:
    """Every saved filter, by name."""
    stored = await client.hgetall(key(names))
    found = [_parse(n, raw) for n, raw in stored.items()]
    return sorted((s for s in found if s is not None), key=lambda s: s.name)


async def delete(client: Any, names: StreamNames, name: str) -> bool:
    """Remove the filter ``name`` (its stream is kept); False when there was none."""
    return bool(await client.hdel(key(names), name))


class SubscriptionIndex:
    """The saved filters, read from Redis at most once per ``max_age`` seconds."""

    def __init__(self, client: Any, names: StreamNames, max_age: float = 1.0) -> None:
        self._client = client
        self._names = names
        self._max_age = max_age
        self._index = FilterIndex(())
        self._at: float | None = None

    async def current(self) -> FilterIndex:
        """The filters (a Redis error propagates, so the caller's batch is retried)."""
        now = time.monotonic()
        if self._at is None or now - self._at >= self._max_age:
            self._index = FilterIndex(await list_all(self._client, self._names))
            self._at = now
        return self._index

    async def matching(self, doc: EnrichedArticle) -> list[str]:
        """The names of the filters ``doc`` matches."""
        return matching(await self.current(), doc)


def matching(filters: FilterIndex | Iterable[SavedFilter], doc: EnrichedArticle) -> list[str]:
    """The names of the filters in ``filters`` that ``doc`` matches (pure); an index
    checks only the filters that could match."""
    index = filters if isinstance(filters, FilterIndex) else FilterIndex(filters)
    return index.matching(doc)
