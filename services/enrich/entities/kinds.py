"""Evidence beyond the model for what kind of thing a name is: well-known names,
storms, summits, spacecraft and telescopes, works in quotes, titles before
names, places the gazetteer knows well, full names written in two halves.

Every pattern here reads a bounded number of words from each start, so the
passes stay linear in the length of the article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import _lexicon as lexicon
from ._base import Field, PlaceNames, _Article, _Mention
from ._mentions import _plurality
from ._text import _clean_name, _free_standing, _word_before
from .countries import canonical_alias

_KNOWN = lexicon._load("known_names.json")
# Exact written form -> spaCy label.
KNOWN_NAMES: dict[str, str] = {
    name: label for label, names in _KNOWN.items() if label != "about" for name in names
}

# "Storm Amy", "Hurricane Milton", "Tropical Storm Melissa" (EVENT).
_STORM_RE = re.compile(
    r"\b(?:(?:Super |Tropical )?(?:Storm|Typhoon|Cyclone)|Hurricane)(?: [A-Z][a-z]+){1,2}\b"
)
# "COP29", "COP 30", "G20", "G7" and "<Name> Summit" (EVENT).
_SUMMIT_RE = re.compile(r"\b(?:COP ?\d{1,2}|G ?(?:7|8|20)|(?:[A-Z][\w'’-]* ){1,3}Summit)(?![\w-])")
# "James Webb Space Telescope", "Vera Rubin Observatory" (PRODUCT / FAC-like).
_TELESCOPE_RE = re.compile(r"\b(?!The )(?:[A-Z][\w'’-]* ){1,4}(?:Space )?Telescope\b")
# A title in quotes after a word that says what kind of work it is: the song
# "Not Like Us", the film "Wicked", his novel "Orbital" (WORK_OF_ART).
_WORK_RE = re.compile(
    r"\b(?:song|single|track|album|film|movie|novel|book|memoir|play|musical|series|show|"
    r"sitcom|drama|documentary|podcast|poem|opera|painting|game|hit)s?"
    r"(?: [a-z]+)?,? [\"“‘']((?:[A-Z0-9][\w'’,.!?&-]*)(?: [\w'’,.!?&-]+){0,7})[\"”’']"
)
# Each pattern with its label, the group that is the name, and the words one of
# which every match holds: a text without them is not searched (most hold none).
_QUOTED_RE = re.compile(r"[\"“‘'][A-Z0-9]")
_PATTERNS: tuple[tuple[re.Pattern[str], str, int, tuple[str, ...] | re.Pattern[str]], ...] = (
    (_STORM_RE, "EVENT", 0, ("Storm", "Typhoon", "Cyclone", "Hurricane")),
    (_SUMMIT_RE, "EVENT", 0, ("COP", "Summit", "G7", "G8", "G2", "G 7", "G 8", "G 2")),
    (_TELESCOPE_RE, "PRODUCT", 0, ("Telescope",)),
    (_WORK_RE, "WORK_OF_ART", 1, _QUOTED_RE),
)


def _may_match(text: str, trigger: tuple[str, ...] | re.Pattern[str]) -> bool:
    if isinstance(trigger, tuple):
        return any(word in text for word in trigger)
    return trigger.search(text) is not None


def _new_mention(article: _Article, field: Field, start: int, end: int, label: str) -> _Mention:
    text = article.field_text(field)
    surface = text[start:end]
    name = _clean_name(surface, label)
    mention = _Mention(field, start, end, surface, name, label, article.offset(field, start))
    mention.sure = True
    if label not in ("PERSON", "WORK_OF_ART"):
        mention.alias = canonical_alias(name)
    return mention


def _claim(
    article: _Article,
    mentions: list[_Mention],
    covered: bytearray,
    found: Iterable[tuple[Field, int, int, str]],
) -> list[_Mention]:
    """The mentions with each ``(field, start, end, label)`` found made a mention
    of its own: the mentions inside it give way ("US" inside "Not Like Us"), a
    mention exactly there takes the label, one reaching outside it wins."""
    by_field: dict[str, list[_Mention]] = {"title": [], "body": []}
    for m in mentions:
        by_field[m.field].append(m)
    dropped: set[int] = set()
    added: list[_Mention] = []
    for field, start, end, label in found:
        overlapping = [m for m in by_field[field] if m.start < end and m.end > start]
        if any(m.start < start or m.end > end for m in overlapping):
            continue
        exact = [m for m in overlapping if m.start == start and m.end == end]
        if exact:
            for m in exact:
                m.label, m.sure = label, True
            dropped.update(id(m) for m in overlapping if m not in exact)
            continue
        dropped.update(id(m) for m in overlapping)
        mention = _new_mention(article, field, start, end, label)
        offset = mention.offset
        covered[offset : offset + end - start] = b"\x01" * (end - start)
        by_field[field].append(mention)
        added.append(mention)
    return [m for m in mentions if id(m) not in dropped] + added


def known_names(article: _Article, mentions: list[_Mention], covered: bytearray) -> list[_Mention]:
    """Mentions of a well-known name take its label; its multi-word forms the
    model missed or cut ("Reform UK" read as "UK") are found too."""
    for m in mentions:
        label = KNOWN_NAMES.get(m.name)
        if label is not None:
            m.label, m.sure = label, True
    found: list[tuple[Field, int, int, str]] = []
    for field in ("title", "body"):
        text = article.field_text(field)
        # A name can stand free only where its first word is a capitalised word of
        # the text: one scan of the text instead of one per name.
        words = set(_CAPITALISED_RE.findall(text))
        for name, label in _MULTIWORD:
            if _FIRST_WORD[name] not in words and name not in _UNUSUAL:
                continue
            start = text.find(name)
            while start != -1:
                end = start + len(name)
                if _free_standing(text, start, end):
                    found.append((field, start, end, label))
                start = text.find(name, end)
    return _claim(article, mentions, covered, found)


_MULTIWORD = tuple((n, label) for n, label in KNOWN_NAMES.items() if " " in n)
# A capitalised word as far as a free-standing name's first word can run.
_CAPITALISED_RE = re.compile(r"[A-Z][\w'’.&-]*")
_FIRST_WORD = {name: name.split(" ", 1)[0] for name, _ in _MULTIWORD}
# Names whose first word is not such a word are always looked for.
_UNUSUAL = frozenset(n for n, w in _FIRST_WORD.items() if not _CAPITALISED_RE.fullmatch(w))


def patterns(article: _Article, mentions: list[_Mention], covered: bytearray) -> list[_Mention]:
    """Storms, summits, telescopes and works in quotes by their wording."""
    found: list[tuple[Field, int, int, str]] = []
    for field in ("title", "body"):
        text = article.field_text(field)
        for pattern, label, group, trigger in _PATTERNS:
            if not _may_match(text, trigger):
                continue
            for match in pattern.finditer(text):
                start, end = match.span(group)
                found.append((field, start, end, label))
    return _claim(article, mentions, covered, found)


# Titles a PERSON span may start with that are not part of the name.
_SPAN_TITLES = lexicon.words("span_titles")


def titles_before_names(article: _Article, mentions: list[_Mention]) -> None:
    """A title at the start of a PERSON span is not part of the name ("Pope Leo"
    -> "Leo", "President Lula" -> "Lula")."""
    for m in mentions:
        if m.label != "PERSON" or " " not in m.name:
            continue
        # The written form may break at a tab or a no-break space where the name has a space.
        words = m.text.split(None, 1)
        if len(words) < 2:
            continue
        first, rest = words
        if first.rstrip(".").casefold() not in _SPAN_TITLES or not rest[:1].isupper():
            continue
        shift = m.text.index(rest, len(first))
        m.start += shift
        m.offset += shift
        m.text = rest
        m.name = _clean_name(rest, m.label)


def _titled(article: _Article, mention: _Mention) -> bool:
    before = _word_before(article.field_text(mention.field), mention.start)
    return before is not None and before.rstrip(".").casefold() in lexicon.TITLES


_LOCATIVES = lexicon.words("locatives")
# "the town of ...", "the province of ...": the kind of place before "of" and a name.
_PLACE_KINDS = lexicon.words("place_kinds")


def _placed(article: _Article, mention: _Mention, place_words: set[str]) -> bool:
    """Whether the words before a mention say it is a place: "in Perth", "at
    Wembley", "Edinburgh and Glasgow" (not "in Kennedy's cabinet")."""
    text = article.field_text(mention.field)
    before = _word_before(text, mention.start)
    if before is None or text.startswith(("'s", "’s"), mention.end):
        return False  # "in Kennedy's cabinet": a person's
    if before.casefold() in _LOCATIVES:
        return True
    if before.endswith(",") and before.strip(",").casefold() in place_words:
        return True  # "Townsville, Cairns, Rockhampton"
    if before.casefold() not in ("and", "or", "of"):
        return False
    start = text.rfind(before, 0, mention.start)
    other = _word_before(text, start)
    if other is None:
        return False
    if before.casefold() == "of":
        return other.casefold() in _PLACE_KINDS  # "the port of Novorossiysk"
    return other.strip(",").casefold() in place_words


def places_by_gazetteer(
    article: _Article,
    groups: dict[str, list[_Mention]],
    display: dict[str, str],
    places: PlaceNames | None,
    place_words: set[str],
) -> None:
    """A "person" the gazetteer knows as a city of 300,000 people or more, that
    no full name took in and no title stands before, and that the words before
    at least half its mentions place ("in Perth", "Edinburgh and Glasgow"), is
    that city."""
    candidates = getattr(places, "candidates", None)
    if candidates is None:
        return
    known = set(place_words)
    for _ in range(2):  # a city placed by the first pass places the next: "Edinburgh and Glasgow"
        for key, group in groups.items():
            if _plurality(group) != "PERSON" or any(m.joined or m.sure or m.team for m in group):
                continue
            own = [p for p in candidates(display[key]) if p.name == display[key]]
            best = max(own, key=lambda p: p.score, default=None)
            if best is None or best.kind != "city" or best.score < 5.5:
                continue  # regions hold surnames too ("Bush"); small towns are people's names
            if any(_titled(article, m) for m in group):
                continue  # "President Madison"
            if 2 * sum(_placed(article, m, known) for m in group) < len(group):
                continue  # "Kennedy", "Hamilton": surnames of cities; a place is "in" one
            for m in group:
                m.label, m.sure = "GPE", True
            known.add(key)


def full_names_in_two_halves(
    article: _Article,
    groups: dict[str, list[_Mention]],
    display: dict[str, str],
    places: PlaceNames | None,
) -> None:
    """Two one-word names the model read apart, the first as a person, that the
    article also writes together ("Esteban", "Ocon" and "Esteban Ocon") are one
    person: the full name becomes a mention and the halves join it."""
    singles = {
        key: group
        for key, group in groups.items()
        if " " not in display[key]
        and _plurality(group) in ("PERSON", "ORG")
        and display[key][:1].isupper()
    }
    if len(singles) < 2 or not any(_plurality(g) == "PERSON" for g in singles.values()):
        return
    for field in ("title", "body"):
        text = article.field_text(field)
        for match in _TWO_WORDS_RE.finditer(text):
            first, last = match.group(1).casefold(), match.group(2).casefold()
            if first not in singles or last not in singles or first == last:
                continue
            if _plurality(singles[first]) != "PERSON" or (
                places is not None and places.place_kind(match.group(1)) is not None
            ):
                continue  # "Baltimore Orioles", "Treasury Brady": not a first name
            if first in lexicon.ORG_FIRST_WORDS or last in lexicon.ORG_LAST_WORDS:
                continue
            start, end = match.span()
            inside = [
                (key, m)
                for key, group in groups.items()
                for m in group
                if m.field == field and m.start < end and m.end > start
            ]
            if any(m.start < start or m.end > end for _, m in inside):
                continue
            for key, m in inside:
                groups[key].remove(m)
            full = match.group(0)
            offset = article.offset(field, start)
            mention = _Mention(field, start, end, full, full, "PERSON", offset, sure=True)
            groups[full.casefold()] = [*groups.get(full.casefold(), []), mention]
            display.setdefault(full.casefold(), full)
    for key in [k for k, group in groups.items() if not group]:
        del groups[key]


_TWO_WORDS_RE = re.compile(r"(?<![\w'’.-])([A-Z][a-z]{2,20}) ([A-Z][a-z]{2,20})(?![\w'’-])")


# "Sorriso, Mato Grosso", "Tiefencastel, Graubunden": the words after a name's comma.
_ATTACHED_RE = re.compile(r",[ \t]+([A-Z][\w'’.-]*(?:[ \t]+[A-Z][\w'’.-]*){0,3})")
# The lower-case word right after a name: "Swindon plant".
_WORD_AFTER_RE = re.compile(r" ([a-z]+)\b")
_PLACE_NOUNS_AFTER = lexicon.words("place_nouns_after")
# A dateline's end: "ROTTERDAM, Oct 9 -", "HOBART — ".
_DATELINE_END_RE = re.compile(r"(?:,|\s+[-–—]|\s*\()")


def _name_goes_on(article: _Article, mention: _Mention) -> bool:
    """A capitalised word follows the mention: it may be part of a longer name."""
    after = article.field_text(mention.field)[mention.end : mention.end + 2]
    return len(after) == 2 and after[0] == " " and after[1].isupper()


def _in_its_region(article: _Article, mention: _Mention, places: PlaceNames) -> bool:
    """ "Sorriso, Mato Grosso", "Perth, Scotland": a region or country the
    gazetteer knows follows the name after a comma."""
    found = _ATTACHED_RE.match(article.field_text(mention.field), mention.end)
    if found is None:
        return False
    words = found.group(1).split()
    return any(
        places.place_kind(" ".join(words[:size])) in ("region", "country")
        for size in range(len(words), 0, -1)
    )


def _said_to_be_a_place(
    article: _Article, mention: _Mention, place_words: set[str], places: PlaceNames
) -> bool:
    """The text around one mention says it is a place: a word before it ("in",
    "near"), the region or country after it, or the dateline it opens."""
    text = article.field_text(mention.field)
    if _placed(article, mention, place_words) or _in_its_region(article, mention, places):
        return True
    after = _WORD_AFTER_RE.match(text, mention.end)
    if after is not None and after.group(1) in _PLACE_NOUNS_AFTER:
        return True  # "Swindon plant", "Bolton mosque"
    return (
        mention.field == "body"
        and not text[: mention.start].strip()
        and mention.text.isupper()
        and _DATELINE_END_RE.match(text, mention.end) is not None
    )


def places_in_their_context(
    article: _Article,
    groups: dict[str, list[_Mention]],
    display: dict[str, str],
    places: PlaceNames | None,
    place_words: set[str],
) -> None:
    """A "person" or "organisation" whose name is a city or region the gazetteer
    knows, that no full name took in, and that the text places at most of its
    mentions ("near Ravenna", "Rio Verde, Goias", "ROTTERDAM, Oct 9 -"), is that
    place, whatever its size."""
    candidates = getattr(places, "candidates", None)
    if candidates is None or places is None:
        return
    known = set(place_words)
    for _ in range(2):  # a town placed by the first round places the next: "Cairns, Rockhampton"
        for key, group in groups.items():
            label = _plurality(group)
            if label not in ("PERSON", "ORG") or any(m.joined or m.sure or m.team for m in group):
                continue
            name = display[key]
            if not any(p.name == name and p.kind in ("city", "region") for p in candidates(name)):
                continue
            if any(_titled(article, m) or _name_goes_on(article, m) for m in group):
                continue  # "President Madison"; "Dhaka South city corporation", "Perth Scorchers"
            placed = sum(_said_to_be_a_place(article, m, known, places) for m in group)
            if 2 * placed < len(group):
                continue
            for m in group:
                m.label, m.sure = "GPE", True
            known.add(key)
