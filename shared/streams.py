"""Stream keys, consumer groups and consumer names.

Every key starts with the configurable prefix (``newsflow:`` by default). On a
Redis Cluster, give the prefix a hash tag (``{newsflow}:``) so that keys one
command touches together share a slot.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass

GROUP_INGEST = "ingest"
GROUP_ENRICH = "enrich"
GROUP_SINK = "sink"

# The field that carries a message's JSON body in every newsflow stream entry.
JSON_FIELD = "json"

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(label: str) -> str:
    """A topic slug: the label in lower case, each run of other characters one ``-``."""
    return _SLUG_RE.sub("-", label.lower()).strip("-")


def consumer_name(service: str) -> str:
    """Unique per process, so replicas in one group never collide."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True, slots=True)
class StreamNames:
    """All stream and key names under one prefix."""

    prefix: str = "newsflow:"

    @property
    def inbox(self) -> str:
        return f"{self.prefix}inbox"

    @property
    def raw(self) -> str:
        return f"{self.prefix}articles:raw"

    @property
    def enriched(self) -> str:
        return f"{self.prefix}articles:enriched"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}dlq"

    @property
    def stored(self) -> str:
        """Notifications of stored articles (id, title, top entities, topics)."""
        return f"{self.prefix}events:stored"

    def topic(self, slug: str) -> str:
        return f"{self.prefix}topics:{slug}"

    def subs(self, name: str) -> str:
        """The stream of the articles matching the saved filter ``name``."""
        return f"{self.prefix}subs:{name}"

    @property
    def generation(self) -> str:
        """The generation marker: changes only when Redis lost its data (shared.generation)."""
        return f"{self.prefix}generation"

    @property
    def incidents(self) -> str:
        """Recorded incidents, such as Redis losing its data."""
        return f"{self.prefix}incidents"

    def seen(self, article_id: str) -> str:
        """The duplicate-detection key of one article id."""
        return f"{self.prefix}seen:{article_id}"
