"""Model spans to mentions, and the helpers that group mentions into entities."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from . import _lexicon as lexicon
from ._base import KEPT_LABELS, EntitySpan, Field, _Article, _Mention
from ._text import (
    _BREAK_CHAR_RE,
    _ORG_BREAK_RE,
    _SPAN_BREAK_RE,
    _clean_name,
    _contains_word,
    _is_all_caps,
    _is_junk,
    _trim,
    _word_before,
)
from .countries import canonical_alias


def _pieces(text: str, start: int, end: int, label: str) -> list[tuple[int, int]]:
    """``[start, end)`` cut where one span holds two names (see ``_SPAN_BREAK_RE``);
    a comma cuts places and people but not organisations ("Goldman, Sachs & Co")."""
    if not _BREAK_CHAR_RE.search(text, start, end):
        return [(start, end)]
    pattern = _ORG_BREAK_RE if label == "ORG" else _SPAN_BREAK_RE
    pieces: list[tuple[int, int]] = []
    position = start
    for match in pattern.finditer(text, start, end):
        pieces.append((position, match.start()))
        position = match.end()
    pieces.append((position, end))
    return [(s, e) for s, e in pieces if s < e]


def _to_mentions(article: _Article, span: EntitySpan) -> list[_Mention]:
    if span.label_ not in KEPT_LABELS:
        return []
    parts = article.locate(span.start_char, span.end_char)
    found = [
        _to_mention(article, span.label_, field, piece_start, piece_end)
        for field, start, end in parts
        for piece_start, piece_end in _pieces(article.field_text(field), start, end, span.label_)
    ]
    mentions = [m for m in found if m is not None]
    if span.start_char < len(article.title) < span.end_char:
        for m in mentions:
            m.split = True
    return mentions


def _to_mention(
    article: _Article, label: str, field: Field, start: int, end: int
) -> _Mention | None:
    text = article.field_text(field)
    start, end = _trim(text, start, end)
    if label == "PERSON":
        # A title is not part of the name ("Mr Smith", "Dr. Jane Doe").
        while (match := lexicon.HONORIFIC_RE.match(text, start, end)) and match.end() < end:
            start = match.end()
    if start >= end:
        return None
    surface = text[start:end]
    name = _clean_name(surface, label)
    if _is_junk(name):
        return None
    offset = article.offset(field, start)
    mention = _Mention(field, start, end, surface, name, label, offset)
    if label != "PERSON":
        mention.alias = canonical_alias(name)
    return mention


def _relabel(text: str, start: int, name: str, label: str) -> str | None:
    """The label the name itself or the word before it calls for, if any: an
    organisation by the words above or after a word such as "firm" or "club"
    ("mineral water firm Multico"), a person after a title ("spokesman Glyn
    Davies" tagged ORG), not a person when it starts with "St" ("St Pauli")."""
    words = name.casefold().split(" ")
    if len(words) > 1 and label != "EVENT" and words[-1] in lexicon.EVENT_LAST_WORDS:
        return "EVENT"
    if len(words) > 1 and label != "ORG":
        if words[-1].rstrip(".") in lexicon.ORG_LAST_WORDS or words[0] in lexicon.ORG_FIRST_WORDS:
            return "ORG"
        if label == "PERSON" and (
            words[-1] in lexicon.ORG_LAST_WORDS_WEAK or words[0] in ("st", "st.")
        ):
            return "ORG"
    before = _word_before(text, start)
    if before is None:
        return None
    if label != "ORG" and before in lexicon.ORG_HEAD_WORDS:
        return "ORG"
    if label in ("ORG", "GPE", "NORP") and before.casefold() in lexicon.PERSON_TITLES:
        return "PERSON"
    return None


def _group_key(mention: _Mention) -> str:
    return (mention.alias or mention.name).casefold()


def _plurality(mentions: Iterable[_Mention]) -> str:
    counts: dict[str, int] = {}
    for m in mentions:
        counts[m.label] = counts.get(m.label, 0) + 1
    return max(counts, key=counts.__getitem__)


def _display_name(article: _Article, mentions: list[_Mention]) -> str:
    """The name an entity is shown under: its alias, else its most frequent
    written form, preferring one that is not in capitals ("Baghdad" over "BAGHDAD")."""
    aliased = [m.alias for m in mentions if m.alias]
    if aliased:
        return Counter(aliased).most_common(1)[0][0]
    names = [m.name for m in mentions]
    mixed = [n for n in names if not _is_all_caps(n)]
    best = Counter(mixed or names).most_common(1)[0][0]
    if mixed or not _is_all_caps(best):
        return best
    titled = best.title()
    if _contains_word(article.text, titled):
        return titled
    # A dateline ("BAGHDAD - ...") is a place in capitals, not an acronym.
    dateline = any(
        m.field == "body" and not article.body[: m.start].strip() and m.label in ("GPE", "LOC")
        for m in mentions
    )
    return titled if dateline else best


def _place_words(mentions: Iterable[_Mention]) -> set[str]:
    places: set[str] = set()
    for m in mentions:
        if m.label in ("GPE", "LOC"):
            places.add(m.name.casefold())
            if m.alias:
                places.add(m.alias.casefold())
    return places


def _is_slogan(name: str, mentions: list[_Mention], places: set[str]) -> bool:
    """A PERSON span that starts with a slogan word and ends in a place named in
    the article ("Screw Iran", "Death to America") is a slogan; a full name
    ending in a place ("Erling Haaland", "Michael Jordan") stays a person."""
    words = name.casefold().split(" ")
    if len(words) < 2 or not any(m.label == "PERSON" for m in mentions):
        return False
    if words[0] not in lexicon.SLOGAN_WORDS:
        return False  # "Erling Haaland" beside the place "Haaland" is a person
    return words[-1] in places or " ".join(words[-2:]) in places
