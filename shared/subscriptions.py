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
from collections.abc import Iterable
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
        if self.language is not None:
            want = self.language.lower().replace("_", "-")
            have = (doc.language or "").lower().replace("_", "-")
            if have != want and not have.startswith(want + "-"):
                return False
        if self.source is not None and (doc.source or "").lower() != self.source.lower():
            return False
        if self.topics:
            # A topic is named by its slug or its QCode.
            held = {t.slug.lower() for t in doc.topics} | {t.qcode.lower() for t in doc.topics}
            hits = [t.lower() in held for t in self.topics]
            if not (all(hits) if self.topics_mode == "all" else any(hits)):
                return False
        if self.entities:
            # As search: a canonical name or any surface form, folded.
            names: set[str] = set()
            for entity in doc.entities:
                names |= entity_name_keys(entity.name, entity.surface_forms)
            if not any(entity_name_key(e) in names for e in self.entities):
                return False
        if self.keywords:
            keywords = {k.casefold() for k in doc.keywords}
            title = " ".join(_WORD.findall(doc.title.casefold()))
            for keyword in self.keywords:
                wanted = keyword.casefold()
                if wanted in keywords:
                    return True
                phrase = " ".join(_WORD.findall(wanted))
                if phrase and f" {phrase} " in f" {title} ":
                    return True
            return False
        return True


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
        self._filters: list[SavedFilter] = []
        self._at: float | None = None

    async def current(self) -> list[SavedFilter]:
        """The filters (a Redis error propagates, so the caller's batch is retried)."""
        now = time.monotonic()
        if self._at is None or now - self._at >= self._max_age:
            self._filters = await list_all(self._client, self._names)
            self._at = now
        return self._filters

    async def matching(self, doc: EnrichedArticle) -> list[str]:
        """The names of the filters ``doc`` matches."""
        return matching(await self.current(), doc)


def matching(filters: Iterable[SavedFilter], doc: EnrichedArticle) -> list[str]:
    """The names of the filters in ``filters`` that ``doc`` matches (pure)."""
    return [f.name for f in filters if f.matches(doc)]
