"""Results tables, datelines and venues: lines of sports pages and wire tables."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import NamedTuple

from . import _lexicon as lexicon
from ._base import Field, PlaceNames, _Article, _Mention
from ._text import _clean_name, _is_all_caps, _is_junk
from .assemble import _vote
from .countries import canonical_alias


def _surnames_read_as_places(mentions: list[_Mention], places: PlaceNames | None) -> None:
    """A single word tagged as a place that the gazetteer does not know, or
    knows only as a small town, and that is the surname of a person named in
    the article ("Lebed" beside "Alexander Lebed") is that person."""
    if places is None:
        return
    surnames = {
        m.name.rpartition(" ")[2] for m in mentions if m.label == "PERSON" and " " in m.name
    }
    for m in mentions:
        if (
            m.label in ("GPE", "LOC")
            and m.name in surnames
            and " " not in m.name
            and _unknown_or_small_town(m.name, places)
        ):
            m.label = "PERSON"


def _unknown_or_small_town(name: str, places: PlaceNames) -> bool:
    """Whether the gazetteer does not know ``name`` or knows it only as a town
    of fewer than 100,000 people ("Haaland", not "Houston")."""
    kind = places.place_kind(name)
    if kind is None:
        return True
    candidates = getattr(places, "candidates", None)
    if kind != "city" or candidates is None:
        return False
    return all(p.score < 5.0 for p in candidates(name))


def _clubs_named_after_places(mentions: list[_Mention], places: PlaceNames | None) -> None:
    """A "place" ending in "City" or "Town" that the gazetteer does not know
    ("Norwich City", "Luton Town", unlike "Mexico City") is a club."""
    if places is None:
        return
    for m in mentions:
        if (
            m.label in ("GPE", "LOC")
            and m.name.rpartition(" ")[2] in ("City", "Town", "CITY", "TOWN")
            and places.place_kind(m.alias or m.name) is None
        ):
            m.label, m.sure = "ORG", True


# --- results tables --------------------------------------------------------------
# Sports pages list results in lines rather than sentences, and the model, trained
# on prose, reads the names in them poorly. In such a line:
# - a capitalised name directly followed by a number is a team ("Huddersfield 1
#   Crystal Palace 1", "Southend 4 0 1 3 2 10 1", "SAN DIEGO 76 60 .559 -"), and
#   so is each of two names around "v" ("Walsall v Wrexham, Morton v Falkirk"); in
#   "Boston at Oakland" the first is a team and the second the place of the game;
#   a team is an organisation, or a place when it is a country;
# - a name followed by a country in parentheses is a competitor, a person
#   ("Tanja Damaske (Germany) 66.60"), and so is each name after a shirt number in
#   a line-up ("France - 1 - Bernard Lama, 2 - Lilian Thuram, 5 - Laurent Blanc").

_DIGIT_RE = re.compile(r"\d")
# A word starting in lower case other than those a results line may hold.
_PROSE_WORD_RE = re.compile(r"(?<!\S)(?!(?:v|vs|at|and|not|out)(?!\S))[a-z]")
_NUMBER_RE = re.compile(r"[-+(]*\.?\d[\d.,:/-]*[)*]*[,;.]?")
_TEAM_WORDS = r"[A-Z][\w'’&.-]*(?: (?!(?:AT|V|VS)\b)(?:[A-Z][\w'’&.-]*|of|de|del|la|&))"
# Anchored patterns (match, fullmatch) read a name of any length; those searched
# through a line (finditer) take at most eight words, so that a line of
# capitalised words costs each start a bounded look, not the rest of the line.
_TEAM_NAME = _TEAM_WORDS + "*"
_SCORED_NAME_RE = re.compile(rf"(?<![\w'’&.-]){_TEAM_WORDS}{{0,7}}(?= +[-+]?\.?\d)")
_FIXTURE_RE = re.compile(
    rf"(?:[A-Z][\w ]*: +)?({_TEAM_NAME})(?: +(?:(v|vs|v\.|vs\.)|AT|at)(?: +({_TEAM_NAME}))?)?\.?"
)
# One game's result: "Feyenoord Rotterdam 3 Volendam 0", "Rad 1 Buducnost (P) 0 (halftime 0-0)".
_RESULT_RE = re.compile(
    rf"\s*({_TEAM_NAME})(?: \([^)]*\))? +\d+ +({_TEAM_NAME})(?: \([^)]*\))? +\d+(?:[ .,;].*)?"
)
_FIXTURE_WORD_RE = re.compile(r" (?:v|vs|AT|at)(?: |\.|$)")
# The clauses of a line of fixtures: "Morton v Falkirk, Partick v St Mirren".
_CLAUSE_RE = re.compile(r"[^\s,;][^,;]*[^\s,;]")
_PARENTHESISED_RE = re.compile(r"\([^)]*\)?")
_AMOUNT_RE = re.compile(r"\d,\d\d\d|\d\.\d\d")
_PLAYER_FIGURES_RE = re.compile(r" +\d+(?:\.\d+)?(?:-\d+){3}")  # "Gough 8-0-39-3"
_INITIAL_RE = re.compile(r"[A-Z]\.(?: |[A-Z]\.)")
_PERSON_NAME = (
    r"[A-Z][\w'’.-]+(?: (?:[A-Z][\w'’.-]+|van|von|der|de|da|di|del|le|la|ter|den|bin|al))*"
)
_PERSON_NAME_SHORT = _PERSON_NAME.removesuffix("*") + "{0,5}"
_COMPETITOR_RE = re.compile(
    rf"(?<![\w'’&.-])({_PERSON_NAME_SHORT} [A-Z][\w'’.-]+) \(([A-Z][\w.'’ -]{{1,60}})\)"
)
_VENUE_RE = re.compile(rf"At ({_TEAM_NAME})(?: \(({_TEAM_NAME})\))?: ")
_NUMBERED_PLAYER_RE = re.compile(
    rf"(?:^|(?<=[-,;:(])|(?<=[-,;:(] ))\d\d? *- *({_PERSON_NAME_SHORT})"
)


class _Slot(NamedTuple):
    """A name in a results line: where it is and whether it is the venue."""

    start: int
    end: int
    venue: bool = False
    sure: bool = False  # a team even if the model read a person's name


def _fixtures(line: str) -> list[_Slot]:
    """The teams of a line of fixtures, every clause of which is one ("Walsall
    v Wrexham, Morton v Falkirk") or a name alone (the end of a fixture wrapped
    from the line before)."""
    slots: list[_Slot] = []
    complete = False
    for part in _CLAUSE_RE.finditer(line):
        fixture = _FIXTURE_RE.fullmatch(line, part.start(), part.end())
        if fixture is None:
            return []
        slots.append(_Slot(fixture.start(1), _name_end(line, fixture.end(1))))
        if fixture.group(3) is not None:
            complete = True
            venue = fixture.group(2) is None
            slots.append(_Slot(fixture.start(3), _name_end(line, fixture.end(3)), venue))
    return slots if complete else []


def _table_names(line: str) -> tuple[list[_Slot], bool]:
    """The team names of one line, if it is a results line, and whether the line
    holds amounts ("Sales 148.29 vs 133.82"), where a name the model missed is
    more likely an item of accounts than a team."""
    if _FIXTURE_WORD_RE.search(line) and (slots := _fixtures(line)):
        return slots, False
    if not _DIGIT_RE.search(line):
        return [], False
    outside = _PARENTHESISED_RE.sub(" ", line) if "(" in line else line
    if _PROSE_WORD_RE.search(outside):
        return [], False
    numbers = 0
    amounts = False
    for token in outside.split():
        if _NUMBER_RE.fullmatch(token):
            numbers += 1
            amounts = amounts or (":" not in token and _AMOUNT_RE.search(token) is not None)
    if numbers < 2:
        return [], False
    result = _RESULT_RE.fullmatch(line)
    sides = {result.start(1), result.start(2)} if result else set()
    found = [_Slot(*result.span(i), sure=True) for i in (1, 2)] if result else []
    for match in _SCORED_NAME_RE.finditer(line):
        start, end = match.span()
        if start in sides:
            continue
        if _PLAYER_FIGURES_RE.match(line, end) or _INITIAL_RE.match(line, start):
            continue  # a player ("Gough 8-0-39-3", "R. Kettleborough 108")
        found.append(_Slot(start, _name_end(line, end)))
    return found, amounts


def _players(line: str, places: PlaceNames | None) -> list[tuple[int, int, str]]:
    """Where the competitors and the players of a line-up in one line are, with
    the label each takes: PERSON, and GPE for a competitor's country or the
    ground of a scoreboard ("At Hove: Sussex 363")."""
    found: list[tuple[int, int, str]] = []
    if "(" in line:
        for match in _COMPETITOR_RE.finditer(line):
            side = match.group(2)
            if not _is_place(side, places) or (side.isupper() and not _is_country(side, places)):
                continue  # not a place, or an acronym ("Iraqi News Agency (INA)")
            found.append((*match.span(1), "PERSON"))
            if _is_country(side, places):
                found.append((*match.span(2), "GPE"))
    if "-" in line and _DIGIT_RE.search(line):
        numbered = [m.span(1) for m in _NUMBERED_PLAYER_RE.finditer(line)]
        if len(numbered) >= 3:
            found.extend((start, end, "PERSON") for start, end in numbered)
    if line.startswith("At ") and (venue := _VENUE_RE.match(line)):
        found.extend((*venue.span(i), "GPE") for i in (1, 2) if venue.group(i))
    return found


def _is_country(name: str, places: PlaceNames | None) -> bool:
    """Whether a team name is a nation's ("Japan", "U.S.", "Scotland")."""
    if name.casefold() in lexicon.HOME_NATIONS:
        return True
    return any(_is_place(n, places, "country") for n in (name, canonical_alias(name)) if n)


def _name_end(line: str, end: int) -> int:
    """The end of a name before a full stop ending the line or the clause."""
    return end - 1 if line[end - 1] == "." else end


def _is_place(name: str, places: PlaceNames | None, kind: str | None = None) -> bool:
    if places is None:
        return kind is None and canonical_alias(name) is not None
    found = places.place_kind(name)
    return found is not None and kind in (None, found)


class _FieldMentions:
    """The mentions of one field, for finding those inside a stretch of it."""

    def __init__(self, mentions: Iterable[_Mention]) -> None:
        self.mentions = sorted(mentions, key=lambda m: m.start)
        self.starts = [m.start for m in self.mentions]

    def inside(self, start: int, end: int) -> list[_Mention] | None:
        """The mentions overlapping ``[start, end)``; ``None`` when one of them
        reaches outside it."""
        i = bisect.bisect_left(self.starts, end)
        found = [m for m in self.mentions[max(0, i - 8) : i] if m.end > start]
        if any(m.start < start or m.end > end for m in found):
            return None
        return found

    def replace(self, old: list[_Mention], new: _Mention) -> None:
        """Put ``new`` in the place of the mentions ``old``.

        In place, by position: a results table of 8,000 lines makes as many
        replacements, and rebuilding the lists for each was quadratic."""
        for o in old:
            i = bisect.bisect_left(self.starts, o.start)
            while i < len(self.starts) and self.starts[i] == o.start:
                if self.mentions[i] is o:
                    del self.mentions[i], self.starts[i]
                    break
                i += 1
        i = bisect.bisect_left(self.starts, new.start)
        self.mentions.insert(i, new)
        self.starts.insert(i, new.start)


def _results_tables(
    article: _Article, mentions: list[_Mention], covered: bytearray, places: PlaceNames | None
) -> list[_Mention]:
    """The mentions with the teams and players of results lines (see above) labelled.

    A team span becomes an organisation (a country stays a place) unless the
    model read it as a person with a first name ("Bob Estes 64"); a venue, the
    ground of a scoreboard ("At Hove: Sussex 363") and a competitor's country
    become places. A name the model missed is added, except an organisation in
    a line of amounts. Where the model found only part of a name ("Walter"
    of "Walter Little", "ST" of "ST LOUIS"), the whole name replaces it.
    """
    added: list[_Mention] = []
    dropped: set[int] = set()

    def settle(
        index: _FieldMentions,
        field: Field,
        found: list[_Mention],
        start: int,
        end: int,
        label: str,
        team: bool = False,
        venue: bool = False,
        replace: bool = True,
    ) -> None:
        """Label the name at ``[start, end)``: the mention exactly there, else
        (with ``replace``) a new mention in place of the ``found`` inside it."""
        exact = [m for m in found if m.start == start and m.end == end]
        for m in exact or found:
            m.label, m.team, m.venue = label, team, venue
        if exact or (found and not replace):
            return
        offset = article.offset(field, start)
        if not found and covered.find(1, offset, offset + end - start) != -1:
            return  # a date or a number the model found
        text = article.field_text(field)
        name = _clean_name(text[start:end], label)
        if _is_junk(name):
            return
        mention = _Mention(field, start, end, text[start:end], name, label, offset)
        mention.alias = canonical_alias(name)
        mention.team, mention.venue = team, venue
        dropped.update(id(m) for m in found)
        covered[offset : offset + end - start] = b"\x01" * (end - start)
        added.append(mention)
        index.replace(found, mention)

    countries: dict[str, bool] = {}  # a table names its teams again and again
    for field in ("title", "body"):
        text = article.field_text(field)
        index = _FieldMentions(m for m in mentions if m.field == field)
        position = 0
        for line in text.split("\n"):
            slots, amounts = _table_names(line)
            for slot in slots:
                start, end = position + slot.start, position + slot.end
                found = index.inside(start, end)
                if found is None:
                    continue
                if not slot.sure and any(m.label == "PERSON" and " " in m.name for m in found):
                    continue  # a player ("Bob Estes 64 70")
                name = text[start:end]
                country = countries.get(name)
                if country is None:
                    country = countries[name] = _is_country(name, places)
                if amounts and not (found or country):
                    continue
                label = "GPE" if country or slot.venue else "ORG"
                settle(
                    index, field, found, start, end, label, not slot.venue, slot.venue, not amounts
                )
            for start, end, label in _players(line, places):
                found = index.inside(position + start, position + end)
                if found is not None and not any(m.sure for m in found):
                    settle(index, field, found, position + start, position + end, label)
            position += len(line) + 1
    if dropped:
        mentions = [m for m in mentions if id(m) not in dropped]
        added = [m for m in added if id(m) not in dropped]
    return mentions + added


_DATELINE_END_RE = re.compile(r"\s*(?:,|[-–—]|\d)")


def _mark_dateline(article: _Article, mentions: list[_Mention]) -> None:
    """The name a dateline starts with ("NEW YORK 1996-08-30", "BIRMINGHAM,
    England") is a place, even where a team of that name plays in the article."""
    body = article.body
    start = len(body) - len(body.lstrip())
    for m in mentions:
        if (
            m.field == "body"
            and m.start == start
            and m.label in ("GPE", "LOC", "ORG")
            and _is_all_caps(m.text)
            and _DATELINE_END_RE.match(body, m.end)
        ):
            m.label, m.venue = "GPE", True


def _split_venues(groups: dict[str, list[_Mention]], display: dict[str, str]) -> None:
    """A name that is a team in the article and also a venue or a dateline
    ("Detroit 4 Kansas City 1", "Kansas City at Detroit") is two things: the
    venue mentions become a place of their own."""
    for key in list(groups):
        group = groups[key]
        venues = [m for m in group if m.venue]
        if not venues or not any(m.team for m in group):
            continue
        rest = [m for m in group if not m.venue]
        # Every mention may be a venue too: a dateline that also heads a line of
        # figures ("LONDON 2026-11-30 ...") is a place, with nothing left to split.
        if not rest or _vote(rest, person_form=False) in ("GPE", "LOC", "FAC"):
            continue
        groups[key] = rest
        place_key = key + "\x00place"
        groups[place_key] = venues
        display[place_key] = display[key]


# --- what the model missed -----------------------------------------------------

# An all-capital place at the start of the body, before a dash, a comma, an
# opening parenthesis or a date: "BAGHDAD - ", "AL-AIN, United Arab Emirates".
_DATELINE_RE = re.compile(
    r"([A-Z][A-Z'’.-]*[A-Z](?: [A-Z][A-Z'’.-]*[A-Z]){0,3})(?=\s*(?:[,(\-–—:]|\d|$))"
)


def _dateline(article: _Article, covered: bytearray, places: PlaceNames | None) -> _Mention | None:
    if places is None:
        return None
    body = article.body
    start = len(body) - len(body.lstrip())
    match = _DATELINE_RE.match(body, start)
    if match is None:
        return None
    end = match.end(1)
    offset = article.offset("body", start)
    if covered.find(1, offset, offset + end - start) != -1:
        return None
    surface = match.group(1)
    if places.place_kind(surface) is None:
        return None
    mention = _Mention("body", start, end, surface, surface, "GPE", offset)
    mention.alias = canonical_alias(surface)
    return mention
