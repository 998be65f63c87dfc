"""The types the passes share: spans in, the article, one mention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from shared.models import ENTITY_TYPES

SEPARATOR = "\n\n"
KEPT_LABELS = frozenset(ENTITY_TYPES)

Field = Literal["title", "body"]


class EntitySpan(Protocol):
    """What is read from a spaCy ``Span``: offsets into the NER text and a label."""

    @property
    def start_char(self) -> int: ...

    @property
    def end_char(self) -> int: ...

    @property
    def label_(self) -> str: ...


class PlaceNames(Protocol):
    """A gazetteer: what kind of place a name is ("country", "region", "city",
    "continent"), or ``None`` for a name it does not know."""

    def place_kind(self, name: str) -> str | None: ...


class RawSpan(NamedTuple):
    """A plain ``EntitySpan``, for callers without spaCy objects."""

    start_char: int
    end_char: int
    label_: str


def ner_text(title: str, body: str) -> str:
    """The text the NER model reads for one article."""
    return title + SEPARATOR + body


# --- mentions and grouping -----------------------------------------------------


@dataclass(slots=True)
class _Mention:
    field: Field
    start: int
    end: int
    text: str
    name: str  # cleaned, before aliasing
    label: str
    offset: int  # position in the NER text, for ordering and salience
    alias: str | None = None
    joined: bool = False  # placed in a person's group by surname/first-name joining
    split: bool = False  # one side of a span that ran across the title/body separator
    team: bool = False  # a team in a line of a results table
    sure: bool = False  # the label comes from the words of the name or around it
    venue: bool = False  # a place where the text shows it is one: a dateline, a venue


def _tokens(name: str) -> tuple[str, ...]:
    return tuple(name.casefold().split(" "))


class _Article:
    """The two fields of one article and where each sits in the NER text."""

    def __init__(self, title: str, body: str) -> None:
        self.title = title
        self.body = body
        self.body_offset = len(title) + len(SEPARATOR)
        self.text = ner_text(title, body)

    def locate(self, start: int, end: int) -> list[tuple[Field, int, int]]:
        """The parts of ``[start, end)`` of the NER text in the title and the body.

        The model does not treat the blank line as a boundary, so a span may run
        from the last word of the title into the first words of the body; each
        side is then a candidate of its own.
        """
        parts: list[tuple[Field, int, int]] = []
        if start < len(self.title):
            parts.append(("title", start, min(end, len(self.title))))
        if end > self.body_offset:
            body_start = max(start, self.body_offset) - self.body_offset
            parts.append(("body", body_start, end - self.body_offset))
        return parts

    def field_text(self, field: Field) -> str:
        return self.title if field == "title" else self.body

    def offset(self, field: Field, start: int) -> int:
        return start if field == "title" else start + self.body_offset
