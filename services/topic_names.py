"""The topic names users may give: slugs and QCodes of the taxonomy the enricher uses.

A typo in a topic ("sports", "politics", "medtop:1500000") must not be taken for a
topic nobody will ever publish to: a saved filter that can never match, a search
that finds nothing, a subscriber that waits for ever. ``TopicNames.check`` raises
``UnknownTopicError`` naming the closest real topics instead. The names come from
the same taxonomy file the enrich worker loads (the packaged one, or
``NEWSFLOW_TAXONOMY_PATH`` with its user topics), read as plain JSON: the API and the
CLI need no classifier to know them.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.streams import slugify

PACKAGED = ("services.enrich", "data/taxonomy.json")
# What a slug can look like at all (the stream name's part), before the taxonomy is asked.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}$"
SUGGESTIONS = 3


class UnknownTopicError(ValueError):
    """A name that is no topic's slug or QCode; the message names close ones."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = (
            f"did you mean {', '.join(repr(s) for s in suggestions)}?"
            if suggestions
            else "topics are IPTC Media Topic slugs such as 'sport' or "
            "'politics-and-government', or QCodes such as 'medtop:15000000'"
        )
        super().__init__(f"unknown topic {name!r}; {hint}")
        self.name = name
        self.suggestions = suggestions


@dataclass(frozen=True)
class TopicNames:
    """The slugs and QCodes of one taxonomy file, and its labels for suggestions."""

    slugs: frozenset[str]
    qcodes: frozenset[str]
    labels: dict[str, str]  # label -> slug

    @classmethod
    def from_document(cls, document: Any) -> TopicNames:
        slugs: set[str] = set()
        qcodes: set[str] = set()
        labels: dict[str, str] = {}
        for topic in document.get("topics", []) if isinstance(document, dict) else []:
            if not isinstance(topic, dict) or not isinstance(topic.get("label"), str):
                continue
            slug = topic.get("slug") or slugify(topic["label"])
            slugs.add(str(slug))
            labels[topic["label"].casefold()] = str(slug)
            if isinstance(topic.get("qcode"), str):
                qcodes.add(topic["qcode"].casefold())
        return cls(frozenset(slugs), frozenset(qcodes), labels)

    def known(self, name: str) -> bool:
        folded = name.strip().casefold()
        return folded in self.slugs or folded in self.qcodes

    def check(self, name: str) -> str:
        """``name`` itself when it is a topic's slug or QCode (any case), else raise
        ``UnknownTopicError`` with up to ``SUGGESTIONS`` close slugs."""
        if self.known(name):
            return name
        folded = name.strip().casefold()
        close = difflib.get_close_matches(folded, sorted(self.slugs), n=SUGGESTIONS, cutoff=0.6)
        by_label = difflib.get_close_matches(folded, sorted(self.labels), n=1, cutoff=0.6)
        close += [self.labels[label] for label in by_label if self.labels[label] not in close]
        starts = sorted(s for s in self.slugs if s.startswith(folded) and s not in close)
        return _raise(name, (close + starts)[:SUGGESTIONS])


def _raise(name: str, suggestions: list[str]) -> str:
    raise UnknownTopicError(name, suggestions)


@functools.cache
def topic_names(path: Path | None = None) -> TopicNames:
    """The names of the taxonomy at ``path`` (the packaged one when None), read once.

    Raises ``OSError`` or ``ValueError`` for a file that cannot be read as JSON."""
    if path is None:
        package, resource = PACKAGED
        raw = importlib.resources.files(package).joinpath(resource).read_bytes()
    else:
        raw = Path(path).read_bytes()
    return TopicNames.from_document(json.loads(raw))
