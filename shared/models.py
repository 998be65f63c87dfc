"""The message contracts every service shares.

``ArticleIn`` is what producers send; ``Article`` is its normalized form on
``articles:raw``; ``EnrichedArticle`` adds entities, topics, keywords and
provenance and travels on ``articles:enriched`` and the topic streams.
``DeadLetter`` is what lands on the dead-letter stream.

Field names here are read by users and scripts (see DESIGN.md); keep them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

SCHEMA_VERSION = 1

EntityType = Literal[
    "PERSON",
    "ORG",
    "GPE",
    "LOC",
    "NORP",
    "FAC",
    "EVENT",
    "PRODUCT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
]
ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)

MAX_TITLE_CHARS = 1_000
MAX_SHORT_FIELD_CHARS = 500
MAX_AUTHORS = 100


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC.

    Raises ``ValueError`` (a validation error naming the field) when the UTC time
    falls outside years 1-9999, e.g. ``0001-01-01T00:00:00+01:00``.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        # datetime raises OverflowError, which pydantic would not report as a
        # validation error: the request would fail with a 500 instead of a 422.
        raise ValueError("is outside years 0001-9999 once converted to UTC") from exc


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


ShortText = Annotated[str, Field(max_length=MAX_SHORT_FIELD_CHARS), AfterValidator(_no_nul)]


class ArticleIn(BaseModel):
    """An article as a scraper or feed sends it.

    ``title`` and one of ``body`` / ``html`` are required. Unknown fields are
    rejected so that a typo (``titel``) is an error rather than lost data.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    schema_version: int = SCHEMA_VERSION
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS), AfterValidator(_no_nul)]
    # html is declared before body so that body's validator can see it.
    html: Annotated[str, AfterValidator(_no_nul)] | None = None
    body: Annotated[str, AfterValidator(_no_nul)] | None = Field(
        default=None, validate_default=True
    )
    url: ShortText | None = None
    published_at: UtcDatetime | None = None
    source: ShortText | None = None
    authors: Annotated[list[ShortText], Field(max_length=MAX_AUTHORS)] = Field(default_factory=list)
    language: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None = None
    section: ShortText | None = None
    external_id: ShortText | None = None

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        from shared.normalize import canonical_url

        canonical_url(value)  # raises ValueError with a clear message
        return value

    @field_validator("body")
    @classmethod
    def _needs_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        html = info.data.get("html")
        if not (value and value.strip()) and not (html and html.strip()):
            raise ValueError("one of 'body' or 'html' is required and must not be empty")
        return value


class Article(BaseModel):
    """A normalized article: deterministic id, canonical URL, UTC times, clean text."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    id: str
    title: str
    body: str
    url: str | None = None
    canonical_url: str | None = None
    source: str | None = None
    authors: list[str] = Field(default_factory=list)
    language: str | None = None
    section: str | None = None
    external_id: str | None = None
    published_at: UtcDatetime | None = None
    received_at: UtcDatetime
    content_hash: str
    word_count: int


class Mention(BaseModel):
    """One occurrence of an entity: ``text`` is ``<field>[start:end]``."""

    field: Literal["title", "body"]
    start: int
    end: int
    text: str


class Entity(BaseModel):
    """A named entity, canonical within one article."""

    name: str
    type: EntityType
    salience: float = Field(ge=0.0, le=1.0)
    mention_count: int
    surface_forms: list[str] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    country_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geonames_id: int | None = None
    # ISO 3166-2 code of the first-level region (state, province, nation) a place
    # is or lies in, e.g. "US-IL", "CA-ON", "GB-SCT". Added in 0.3; absent (None)
    # in older documents and for places with no known region.
    region_code: str | None = None


def entity_name_key(name: str) -> str:
    """The key entity names are searched by: case, accents, dots and spacing folded.

    ``"Zürich"``, ``"ZURICH"`` and ``"zurich"`` share a key, as do ``"U.S."`` and
    ``"US"``; the key of a canonical name and of each surface form find the entity.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.replace(".", "").replace("\u2019", "'").split())


# Generational suffixes: "Martin Luther King Jr." is found by "King".
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})


def surname_key(name: str) -> str | None:
    """The key of a person's surname (``"Donald Trump"`` -> ``"trump"``), or None for a
    one-word name; a generational suffix is skipped."""
    words = entity_name_key(name).replace(",", " ").split()
    while len(words) > 1 and words[-1] in _NAME_SUFFIXES:
        words.pop()
    if len(words) < 2 or len(words[-1]) < 2:
        return None
    return words[-1]


def entity_name_keys(
    name: str, surface_forms: Iterable[str] = (), entity_type: str | None = None
) -> set[str]:
    """The search keys of an entity: its canonical name and every surface form, and for
    a person (``entity_type`` PERSON) the surname, so ``Trump`` finds ``Donald Trump``."""
    keys = {entity_name_key(text) for text in (name, *surface_forms)}
    if entity_type == "PERSON" and (surname := surname_key(name)) is not None:
        keys.add(surname)
    keys.discard("")
    return keys


class Topic(BaseModel):
    """An IPTC Media Topic assigned to an article."""

    qcode: str
    label: str
    slug: str
    relevance: float = Field(ge=0.0, le=1.0)
    terms: list[str] = Field(default_factory=list)
    # Where the topic sits in its taxonomy: 1 for a top-level topic, and the
    # QCode of the broader topic otherwise (absent in documents before 0.2).
    level: int | None = None
    broader: str | None = None


class Provenance(BaseModel):
    """Which code, model and taxonomy produced the annotations."""

    newsflow_version: str
    ner_model: str | None
    taxonomy: str
    enriched_at: UtcDatetime
    # Added in 0.2; absent (None) in older documents.
    language_detector: str | None = None
    keyword_extractor: str | None = None
    gazetteer: str | None = None
    ner_skipped: str | None = None  # why entities were not looked for, e.g. the language
    ner_limited: str | None = None  # where NER stopped reading (NEWSFLOW_NER_MAX_CHARS)
    topics_skipped: str | None = None  # why topics were not assigned, e.g. the language
    # Optional steps that failed on this article and were left out, e.g.
    # "entities:results_tables" (one entity pass), "places", "keywords".
    degraded: list[str] = Field(default_factory=list)


class EnrichedArticle(Article):
    """An ``Article`` with entities, topics, keywords and provenance."""

    entities: list[Entity] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    # Dates and times named in the text, kept apart from the entities.
    dates: list[Mention] = Field(default_factory=list)
    provenance: Provenance


class DeadLetter(BaseModel):
    """An entry that could not be processed, with enough to replay it."""

    schema_version: int = SCHEMA_VERSION
    service: str
    source_stream: str
    group: str | None = None
    entry_id: str | None = None
    error_class: str
    error: str
    delivery_count: int = 1
    payload: dict[str, Any]
    failed_at: UtcDatetime


class WebhookDelivery(BaseModel):
    """One attempt to deliver to a webhook (``webhooks:{id}:deliveries``)."""

    model_config = ConfigDict(extra="ignore")

    at: str  # ISO 8601, UTC
    entry_id: str  # the stream entry (the first of a batch)
    articles: int
    webhook_id: str  # the webhook-id header: the same on every retry
    attempt: int
    status: int | None = None  # the HTTP status, or None when there was no answer
    error: str | None = None
    latency_ms: float


class DataLossIncident(BaseModel):
    """Redis lost its data (``incidents``): found by the ingest service's generation
    marker (``shared.generation``), with how many accepted articles went with it."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    kind: Literal["redis-data-loss"] = "redis-data-loss"
    previous_generation: str
    generation: str
    # The last check that found the data whole, and when the loss was noticed.
    last_good_check: str
    detected: str
    # Accepted and not yet stored at the last good check, and accepted since by the
    # process that noticed: all of them are lost.
    backlog_at_last_check: int
    accepted_since_last_check: int

    @property
    def lost_at_least(self) -> int:
        return self.backlog_at_last_check + self.accepted_since_last_check

    def message(self) -> str:
        return (
            f"Redis lost its data: generation {self.previous_generation} is gone (now "
            f"{self.generation}). At the last good check ({self.last_good_check}) "
            f"{self.backlog_at_last_check} accepted articles were not yet stored, and this "
            f"process accepted {self.accepted_since_last_check} since: at least "
            f"{self.lost_at_least} articles are lost. Send again what your scrapers sent "
            f"after {self.last_good_check} (README: 'When Redis loses data')."
        )


class StoredEvent(BaseModel):
    """A short notice of one stored article (``events:stored``), for live display."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    id: str
    title: str
    # The first five entities as (name, type) and every topic as (slug, qcode).
    entities: list[tuple[str, str]] = Field(default_factory=list)
    topics: list[tuple[str, str]] = Field(default_factory=list)

    @classmethod
    def of(cls, doc: EnrichedArticle) -> StoredEvent:
        """The notice for ``doc``."""
        return cls(
            id=doc.id,
            title=doc.title,
            entities=[(e.name, e.type) for e in doc.entities[:5]],
            topics=[(t.slug, t.qcode) for t in doc.topics],
        )
