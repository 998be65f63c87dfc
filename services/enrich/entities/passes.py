"""The entity rules as named passes, run in order over one article.

``extract`` turns the model's spans into mentions (trimmed, cut where one span
holds two names, junk dropped), runs the mention passes, groups the mentions
by name, runs the group passes, builds one ``Entity`` per group and runs the
entity passes. Each pass is a ``Pass``: a name (what ``newsflow eval ner
--ablate`` and ``provenance.degraded`` call it), the stage it works on, and a
function whose docstring says what it does and why.

A pass that raises costs the article that pass only: the article is read again
without it (the model's own reading for that step) and the pass's name is
returned in ``Extraction.degraded``. Reading again costs nothing while no pass
fails, which is the point: no copy of the state is kept between passes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from shared.models import Entity

from . import kinds
from ._base import EntitySpan, PlaceNames, _Article, _Mention
from ._mentions import (
    _display_name,
    _group_key,
    _is_slogan,
    _place_words,
    _relabel,
    _to_mentions,
)
from .assemble import build_entities
from .countries import COUNTRY_CODES
from .joins import (
    _join_acronyms,
    _join_corporate_suffixes,
    _join_plural_nationalities,
    _join_qualified_orgs,
    _propagate_names,
)
from .people import _Context, _find_missed_surnames, _join_people, _People
from .tables import (
    _clubs_named_after_places,
    _dateline,
    _mark_dateline,
    _results_tables,
    _split_venues,
    _surnames_read_as_places,
)

logger = logging.getLogger(__name__)

Stage = Literal["mentions", "groups", "entities"]


@dataclass(slots=True)
class State:
    """One article while the passes run: its mentions, then its groups (key ->
    mentions, with the name each group is shown under), then its entities."""

    article: _Article
    places: PlaceNames | None
    covered: bytearray  # 1 for each character of the NER text in a span or a mention
    mentions: list[_Mention]
    groups: dict[str, list[_Mention]] = field(default_factory=lambda: defaultdict(list))
    display: dict[str, str] = field(default_factory=dict)
    place_words: set[str] = field(default_factory=set)
    people: _People | None = None
    entities: list[Entity] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Pass:
    """One named rule over the state of one article."""

    name: str
    stage: Stage
    run: Callable[[State], None]

    @property
    def doc(self) -> str:
        """The first line of the pass's docstring."""
        return (self.run.__doc__ or "").strip().split("\n")[0]


class Extraction(NamedTuple):
    """The entities of one article and the passes that failed on it."""

    entities: list[Entity]
    degraded: list[str]


# --- mention passes ----------------------------------------------------------------


def name_words(state: State) -> None:
    """The words of a name or the word before it overrule the model's label:
    "Iraqi News Agency", "Bank of Japan" and "firm Multico" are organisations,
    "UEFA Cup" an event, "spokesman Glyn Davies" a person."""
    article = state.article
    for m in state.mentions:
        sure = _relabel(article.field_text(m.field), m.start, m.name, m.label)
        if sure:
            m.label, m.sure = sure, True


def missed_dateline(state: State) -> None:
    """An all-capital place the gazetteer knows at the start of the body, before
    a dash, comma or date ("BELGRADE - "), is a place the model missed."""
    mention = _dateline(state.article, state.covered, state.places)
    if mention is not None:
        state.mentions.append(mention)


def clubs_named_after_places(state: State) -> None:
    """A "place" ending in "City" or "Town" that the gazetteer does not know is
    a club ("Norwich City", unlike "Mexico City")."""
    _clubs_named_after_places(state.mentions, state.places)


def surnames_read_as_places(state: State) -> None:
    """A one-word "place" that the gazetteer does not know, or knows only as a
    town, and that is the surname of a person in the article is that person
    ("Lebed" beside "Alexander Lebed", "Haaland" beside "Erling Haaland")."""
    _surnames_read_as_places(state.mentions, state.places)


def results_tables(state: State) -> None:
    """Lines of results, fixtures, league tables and line-ups are read as such:
    teams are organisations (national sides places), competitors and players
    people, grounds and competitors' countries places."""
    state.mentions = _results_tables(state.article, state.mentions, state.covered, state.places)


def dateline_is_a_place(state: State) -> None:
    """The all-capital name a dateline starts with ("NEW YORK 1996-08-30") is a
    place, even where a team of that name plays in the article."""
    _mark_dateline(state.article, state.mentions)


def titles_before_names(state: State) -> None:
    """A title at the start of a PERSON span is not part of the name ("Pope Leo"
    -> "Leo", "President Lula" -> "Lula")."""
    kinds.titles_before_names(state.article, state.mentions)


def known_names(state: State) -> None:
    """Mentions of a well-known name (``data/known_names.json``) take its label,
    and its multi-word forms the model missed or cut ("Reform UK") are found."""
    state.mentions = kinds.known_names(state.article, state.mentions, state.covered)


def storms_summits_spacecraft_works(state: State) -> None:
    """Storms ("Storm Amy"), summits ("COP29", "G20"), telescopes and works in
    quotes after a word such as "song" are events, products and works."""
    state.mentions = kinds.patterns(state.article, state.mentions, state.covered)


# --- group passes ------------------------------------------------------------------


def slogans(state: State) -> None:
    """A PERSON span that starts with a slogan word and ends in a place named in
    the article ("Screw Iran") is a slogan, not a person, and is dropped."""
    groups, display = state.groups, state.display
    for key in [k for k in groups if _is_slogan(display[k], groups[k], state.place_words)]:
        del groups[key]


def plural_nationalities(state: State) -> None:
    """A plural nationality joins the singular ("Iraqis" -> "Iraqi")."""
    _join_plural_nationalities(state.groups)


def qualified_orgs(state: State) -> None:
    """An organisation joins the only longer form a place or nationality
    qualifies ("State Department" -> "US State Department")."""
    _join_qualified_orgs(state.groups)


def corporate_suffixes(state: State) -> None:
    """A company with a legal suffix joins its bare name ("Apple Inc." ->
    "Apple"), and its first word alone joins it ("Magna")."""
    _join_corporate_suffixes(state.groups)


def acronyms(state: State) -> None:
    """An acronym in parentheses after a name ("Kurdistan Democratic Party
    (KDP)") is that name, here and wherever it is used later."""
    _join_acronyms(state.groups, state.display, state.article)


def split_venues(state: State) -> None:
    """A name that is both a team and a venue or dateline in the article
    ("Kansas City at Detroit") is two entities, the team and the place."""
    _split_venues(state.groups, state.display)


def full_names_in_two_halves(state: State) -> None:
    """Two one-word names the model read apart, the first as a person, that the
    article also writes together ("Esteban", "Ocon", "Esteban Ocon") are one person."""
    kinds.full_names_in_two_halves(state.article, state.groups, state.display, state.places)


def places_by_gazetteer(state: State) -> None:
    """A "person" the gazetteer knows as a city of 300,000 or more, that no full
    name took in and that a word before it places ("in Perth"), is that city."""
    kinds.places_by_gazetteer(
        state.article, state.groups, state.display, state.places, state.place_words
    )


def places_in_their_context(state: State) -> None:
    """A "person" or "organisation" named as a city or region the gazetteer knows,
    that the text places at most of its mentions ("near Ravenna", "Rio Verde,
    Goias", "ROTTERDAM, Oct 9 -"), is that place."""
    kinds.places_in_their_context(
        state.article, state.groups, state.display, state.places, state.place_words
    )


def join_people(state: State) -> None:
    """A surname or first name alone joins the full name of the one person it
    can belong to ("Trump" -> "Donald Trump")."""
    state.people = _join_people(state.groups, state.display)


def missed_surnames(state: State) -> None:
    """Occurrences of a known person's surname that no span covers are that
    person ("Pompeo, speaking to reporters")."""
    people = state.people or _People(state.groups, state.display)
    context = _Context(state.article, state.covered, state.place_words)
    _find_missed_surnames(state.groups, state.display, people, context)


def propagate_names(state: State) -> None:
    """Occurrences of an entity's written forms that no span covers are that
    entity: the model tags "Lebed" in one sentence and misses it in the next."""
    _propagate_names(state.groups, state.article, state.covered)


# --- entity passes -----------------------------------------------------------------


def countries_are_places(state: State) -> None:
    """A country name the model called a person, organisation or LOC is a GPE
    with its country code ("Japan" as a team, "Belarus" read as a person)."""
    places = state.places
    if places is None:
        return
    for index, entity in enumerate(state.entities):
        if entity.type in ("PERSON", "ORG", "LOC") and places.place_kind(entity.name) == "country":
            state.entities[index] = entity.model_copy(
                update={"type": "GPE", "country_code": COUNTRY_CODES.get(entity.name)}
            )


PASSES: tuple[Pass, ...] = (
    Pass("name_words", "mentions", name_words),
    Pass("titles_before_names", "mentions", titles_before_names),
    Pass("known_names", "mentions", known_names),
    Pass("storms_summits_spacecraft_works", "mentions", storms_summits_spacecraft_works),
    Pass("missed_dateline", "mentions", missed_dateline),
    Pass("clubs_named_after_places", "mentions", clubs_named_after_places),
    Pass("surnames_read_as_places", "mentions", surnames_read_as_places),
    Pass("results_tables", "mentions", results_tables),
    Pass("dateline_is_a_place", "mentions", dateline_is_a_place),
    Pass("slogans", "groups", slogans),
    Pass("plural_nationalities", "groups", plural_nationalities),
    Pass("qualified_orgs", "groups", qualified_orgs),
    Pass("corporate_suffixes", "groups", corporate_suffixes),
    Pass("acronyms", "groups", acronyms),
    Pass("split_venues", "groups", split_venues),
    Pass("full_names_in_two_halves", "groups", full_names_in_two_halves),
    Pass("join_people", "groups", join_people),
    Pass("missed_surnames", "groups", missed_surnames),
    Pass("propagate_names", "groups", propagate_names),
    Pass("places_by_gazetteer", "groups", places_by_gazetteer),
    Pass("places_in_their_context", "groups", places_in_their_context),
    Pass("countries_are_places", "entities", countries_are_places),
)
PASS_NAMES: tuple[str, ...] = tuple(p.name for p in PASSES)


class _PassFailed(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _run_stage(state: State, stage: Stage, skip: Collection[str]) -> None:
    for rule in PASSES:
        if rule.stage != stage or rule.name in skip:
            continue
        try:
            rule.run(state)
        except Exception as exc:
            raise _PassFailed(rule.name) from exc


def _read(
    article: _Article,
    spans: Sequence[EntitySpan],
    places: PlaceNames | None,
    skip: Collection[str],
) -> list[Entity]:
    mentions = [m for span in spans for m in _to_mentions(article, span)]
    covered = bytearray(len(article.text) + 1)
    for span in spans:
        covered[span.start_char : span.end_char] = b"\x01" * (span.end_char - span.start_char)
    state = State(article, places, covered, mentions)
    _run_stage(state, "mentions", skip)
    if not state.mentions:
        return []
    for m in state.mentions:
        state.groups[_group_key(m)].append(m)
    state.place_words = _place_words(state.mentions)
    state.display = {key: _display_name(article, ms) for key, ms in state.groups.items()}
    _run_stage(state, "groups", skip)
    if not state.groups:
        return []
    state.entities = build_entities(article, state.groups, state.display)
    _run_stage(state, "entities", skip)
    return state.entities


def extract(
    title: str,
    body: str,
    spans: Iterable[EntitySpan],
    places: PlaceNames | None = None,
    disabled: Collection[str] = (),
) -> Extraction:
    """The entities of one article with every pass but those ``disabled``.

    A pass that raises is logged and the article read again without it; its
    name is in ``degraded``. Raises only when the reading without any pass
    fails (spans outside the NER text, a bug in the mapping itself).
    """
    article = _Article(title, body)
    span_list = sorted(spans, key=lambda s: (s.start_char, s.end_char))
    skip = set(disabled)
    degraded: list[str] = []
    while True:
        try:
            return Extraction(_read(article, span_list, places, skip), degraded)
        except _PassFailed as failure:
            logger.warning(
                "entity pass %s failed on an article (title %r); read without it",
                failure.name,
                title[:80],
                exc_info=failure.__cause__,
            )
            skip.add(failure.name)
            degraded.append(failure.name)
