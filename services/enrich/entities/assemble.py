"""One ``Entity`` per group: type by vote, display name, salience."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import cast

from shared.models import Entity, EntityType, Mention

from ._base import EntitySpan, _Article, _Mention
from ._text import _trim_plain
from .countries import COUNTRY_CODES

# --- entity assembly -----------------------------------------------------------


# The weight of a mention's label in the vote when it rests on more than the
# model: a team in a results line, a label the name's own words call for.
_EVIDENCE_WEIGHT = 3.0


def _vote(mentions: list[_Mention], person_form: bool) -> EntityType:
    """One type per entity. Mentions that joined a person count as PERSON; a
    team of a results line or a label called for by the words of the name counts
    ``_EVIDENCE_WEIGHT`` times; on a tie PERSON beats ORG when the entity has a
    multi-word PERSON form, else the earliest mention's label wins."""
    labels = ["PERSON" if m.joined else m.label for m in mentions]
    counts: dict[str, float] = defaultdict(float)
    for m, label in zip(mentions, labels, strict=True):
        # A span the model ran across the separator is weaker evidence.
        counts[label] += 0.5 if m.split else _EVIDENCE_WEIGHT if m.team or m.sure else 1.0
    top = max(counts.values())
    tied = [label for label in labels if counts[label] == top]
    if person_form and "PERSON" in tied:
        return "PERSON"
    return cast(EntityType, tied[0])


def _salience(
    mentions: list[_Mention], max_count: int, title_len: int, lead_end: int, body_len: int
) -> float:
    """0.5 mention frequency (log-scaled, relative to the article's most mentioned
    entity) + 0.2 earliest position (title, lead paragraph, then how early in the
    body) + 0.3 headline presence (more for names early in the headline, which is
    usually the subject). The weights sum to 1, so the result is in [0, 1]."""
    frequency = math.log1p(len(mentions)) / math.log1p(max_count)
    first = mentions[0]
    if first.field == "title":
        position = 1.0
    elif first.start < lead_end:
        position = 0.75
    else:
        position = 0.5 * (1.0 - first.start / max(body_len, 1))
    in_title = [m.start for m in mentions if m.field == "title"]
    headline = 1.0 - min(in_title) / max(title_len, 1) if in_title else 0.0
    return min(1.0, 0.5 * frequency + 0.2 * position + 0.3 * headline)


def _lead_end(body: str) -> int:
    """End of the lead: the first paragraph, at most 600 characters."""
    start = len(body) - len(body.lstrip())
    end = body.find("\n", start)
    return min(end if end >= 0 else len(body), start + 600)


def _surface_forms(mentions: list[_Mention]) -> list[str]:
    counts = Counter(m.text for m in mentions)
    order = {text: i for i, text in reversed(list(enumerate(m.text for m in mentions)))}
    return sorted(counts, key=lambda t: (-counts[t], order[t]))


def build_entities(
    article: _Article, groups: dict[str, list[_Mention]], display: dict[str, str]
) -> list[Entity]:
    """One ``Entity`` per group, sorted by salience (descending) then name; each
    entity's mentions sorted by position, title first."""
    max_count = max(len(ms) for ms in groups.values())
    lead_end = _lead_end(article.body)
    title_len, body_len = len(article.title), len(article.body)
    entities: list[Entity] = []
    for key, group in groups.items():
        group.sort(key=lambda m: m.offset)
        name = display[key]
        entity_type = _vote(group, person_form=" " in name and "PERSON" in (m.label for m in group))
        country = COUNTRY_CODES.get(name) if entity_type == "GPE" else None
        entities.append(
            Entity(
                name=name,
                type=entity_type,
                salience=round(_salience(group, max_count, title_len, lead_end, body_len), 4),
                mention_count=len(group),
                surface_forms=_surface_forms(group),
                mentions=[
                    Mention(field=m.field, start=m.start, end=m.end, text=m.text) for m in group
                ],
                country_code=country,
            )
        )
    entities.sort(key=lambda e: (-e.salience, e.name))
    return entities


TIME_LABELS = frozenset({"DATE", "TIME"})


def extract_dates(title: str, body: str, spans: Iterable[EntitySpan]) -> list[Mention]:
    """The DATE and TIME spans of one article as mentions, in text order; they are
    kept apart from the entities."""
    article = _Article(title, body)
    found: list[Mention] = []
    for span in sorted(spans, key=lambda s: s.start_char):
        if span.label_ not in TIME_LABELS:
            continue
        for field, raw_start, raw_end in article.locate(span.start_char, span.end_char):
            text = article.field_text(field)
            start, end = _trim_plain(text, raw_start, raw_end)
            if start < end:
                found.append(Mention(field=field, start=start, end=end, text=text[start:end]))
    return found
