"""Every newsflow stream, declared once: name, message model, writers, readers, retention.

The AsyncAPI document (``newsflow docs``), the consumer groups created at start-up,
the trimming of each stream and ``newsflow stats`` all read this table, so a stream
is added or changed here and nowhere else.

Trimming rules (``Trim``):

* ``ACKED`` — pipeline streams: ``XTRIM MINID`` below the oldest entry that any
  consumer group on the stream has not acknowledged, never by length or age.
* ``CAPPED`` — streams no group works through (dead letters, stored-article notices):
  an approximate length cap on every ``XADD`` loses nothing anyone waits for.
* ``LIMITS`` — topic and subscription streams: kept for
  ``NEWSFLOW_TOPIC_RETENTION_HOURS`` and at most ``NEWSFLOW_TOPIC_MAXLEN`` entries.
  Only those limits trim them; when a limit trims entries that a subscriber's
  consumer group has not acknowledged, that group is told (a log line and the
  ``newsflow_trimmed_unread_total`` metric).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

from shared.models import (
    Article,
    ArticleIn,
    DataLossIncident,
    DeadLetter,
    EnrichedArticle,
    StoredEvent,
    WebhookDelivery,
)
from shared.streams import GROUP_ENRICH, GROUP_INGEST, GROUP_SINK, StreamNames

DLQ_CAP = 100_000
WEBHOOK_DELIVERIES_CAP = 1_000
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


class Trim(Enum):
    """How a stream is kept short (see the module docstring)."""

    ACKED = "acked"
    CAPPED = "capped"
    LIMITS = "limits"


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One stream (or family of streams, when ``key`` holds a ``{placeholder}``)."""

    key: str  # under the prefix: "articles:raw", "topics:{slug}"
    model: type[BaseModel]
    writers: tuple[str, ...]
    groups: tuple[str, ...]  # pipeline consumer groups, created at start-up from id 0
    trim: Trim
    description: str
    cap: int | None = None  # the length cap of a CAPPED stream

    @property
    def is_family(self) -> bool:
        """True for a name pattern such as ``topics:{slug}``."""
        return "{" in self.key

    def address(self, names: StreamNames, **parts: str) -> str:
        """The full key; a family's placeholder filled from ``parts`` (else kept)."""
        key = self.key.format(**parts) if parts else self.key
        return f"{names.prefix}{key}"

    def glob(self, names: StreamNames) -> str:
        """A SCAN pattern for a family's streams (the key itself for one stream)."""
        return names.prefix + _PLACEHOLDER.sub("*", self.key)

    def owns(self, names: StreamNames, stream: str) -> bool:
        """Whether ``stream`` is this stream or one of this family's (a placeholder
        stands for one non-empty part without ``:``)."""
        if not self.is_family:
            return stream == self.address(names)
        parts = _PLACEHOLDER.split(self.key)
        pattern = "[^:]+".join(re.escape(part) for part in parts)
        return re.fullmatch(re.escape(names.prefix) + pattern, stream) is not None


INBOX = StreamSpec(
    key="inbox",
    model=ArticleIn,
    writers=("scrapers",),
    groups=(GROUP_INGEST,),
    trim=Trim.ACKED,
    description="Articles (ArticleIn) to ingest, written by scrapers with XADD; "
    "bad entries go to the dead-letter stream.",
)
RAW = StreamSpec(
    key="articles:raw",
    model=Article,
    writers=("ingest",),
    groups=(GROUP_ENRICH,),
    trim=Trim.ACKED,
    description="Accepted articles, normalized, with a deterministic id; enriched in "
    "batches by group `enrich`.",
)
ENRICHED = StreamSpec(
    key="articles:enriched",
    model=EnrichedArticle,
    writers=("enrich",),
    groups=(GROUP_SINK,),
    trim=Trim.ACKED,
    description="Every enriched article (the full document: entities, topics, keywords, "
    "provenance), stored in batches (idempotent upsert) by group `sink`.",
)
TOPICS = StreamSpec(
    key="topics:{slug}",
    model=EnrichedArticle,
    writers=("enrich",),
    groups=(),
    trim=Trim.LIMITS,
    description="One stream per IPTC Media Topic slug (e.g. `politics-and-government`): "
    "each enriched article on the stream of every topic it was given. Kept "
    "NEWSFLOW_TOPIC_RETENTION_HOURS (and at most NEWSFLOW_TOPIC_MAXLEN entries); a "
    "subscriber's consumer group that loses unread entries to those limits is told. "
    "Follow with `newsflow subscribe`.",
)
SUBS = StreamSpec(
    key="subs:{name}",
    model=EnrichedArticle,
    writers=("enrich",),
    groups=(),
    trim=Trim.LIMITS,
    description="One stream per saved filter (`newsflow subscriptions add`): each enriched "
    "article the filter matches. Kept like the topic streams.",
)
DLQ = StreamSpec(
    key="dlq",
    model=DeadLetter,
    writers=("ingest", "enrich", "sink"),
    groups=(),
    trim=Trim.CAPPED,
    cap=DLQ_CAP,
    description="Entries that could not be processed, with the error and the original "
    "payload; replay with `newsflow dlq replay`.",
)
STORED = StreamSpec(
    key="events:stored",
    model=StoredEvent,
    writers=("sink",),
    groups=(),
    trim=Trim.CAPPED,
    cap=10_000,
    description="A short notice (StoredEvent) of each article once it is stored: id, "
    "title, top entities, topics. For live display (`newsflow up` prints them).",
)

INCIDENTS = StreamSpec(
    key="incidents",
    model=DataLossIncident,
    writers=("ingest",),
    groups=(),
    trim=Trim.CAPPED,
    cap=100,
    description="Incidents the stack noticed, such as Redis coming back without its data "
    "(DataLossIncident: the articles lost with it); `newsflow stats` shows them.",
)

WEBHOOK_DELIVERIES = StreamSpec(
    key="webhooks:{id}:deliveries",
    model=WebhookDelivery,
    writers=("deliver",),
    groups=(),
    trim=Trim.CAPPED,
    cap=WEBHOOK_DELIVERIES_CAP,
    description="Every delivery attempt of one webhook (status or error, latency), the "
    "newest about 1,000; `GET /v1/webhooks/{id}/deliveries` reads it.",
)
WEBHOOK_DLQ = StreamSpec(
    key="webhooks:{id}:dlq",
    model=EnrichedArticle,
    writers=("deliver",),
    groups=(),
    trim=Trim.CAPPED,
    cap=DLQ_CAP,
    description="Articles one webhook could not deliver within NEWSFLOW_WEBHOOK_MAX_RETRY_S "
    "(the entry's JSON, with entry_id, stream, webhook_id, error and attempts beside it).",
)

STREAMS: tuple[StreamSpec, ...] = (
    INBOX,
    RAW,
    ENRICHED,
    TOPICS,
    SUBS,
    DLQ,
    STORED,
    INCIDENTS,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DLQ,
)


def spec_of(names: StreamNames, stream: str) -> StreamSpec:
    """The declaration ``stream`` belongs to; ``KeyError`` naming it when none."""
    for spec in STREAMS:
        if spec.owns(names, stream):
            return spec
    raise KeyError(f"stream {stream!r} is not declared in shared.topology")


def pipeline_groups(names: StreamNames) -> list[tuple[str, str]]:
    """(stream, group) of every consumer group the pipeline reads with."""
    return [(spec.address(names), group) for spec in STREAMS for group in spec.groups]
