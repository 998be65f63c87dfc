"""Named-entity spans -> canonical ``Entity`` objects for one article.

The NER model reads ``ner_text(title, body)`` (title, a blank line, body). This
module turns its spans into one ``Entity`` per thing the article talks about:

- every span is mapped back to a ``Mention`` in ``title`` or ``body`` whose
  ``text`` is exactly ``<field>[start:end]``;
- only the DESIGN labels are kept (PERSON, ORG, GPE, LOC, NORP, FAC, EVENT,
  PRODUCT, WORK_OF_ART, LAW, LANGUAGE); dates, numbers and money are dropped;
- names are canonicalised within the article: a leading "the", possessives,
  quotes and honorifics are removed, case variants merge ("BAGHDAD" joins
  "Baghdad"), whole-span country aliases map to one name ("US", "America" ->
  "United States"), plural nationalities join the singular ("Iraqis" ->
  "Iraqi"), a qualified or incorporated organisation absorbs its short form
  ("State Department" -> "US State Department", "Apple Inc." -> "Apple"), and a
  surname or first name alone joins the full name of the one person it can
  belong to ("Trump" -> "Donald Trump"), including occurrences of the surname
  that the model missed;
- junk is removed: spans without letters, single characters, spans starting with
  a lower-case word, generic words such as "State", the headings of sports pages
  and tables ("BASEBALL", "Women's", "Attendance"), and slogans tagged as PERSON
  ("Screw Iran": a PERSON span ending in a place named in the same article);
- a span holding two names is cut: at a line break, a spaced dash, a
  parenthesis, a "v" between two sides, a score ("Millwall 2 Burnley") and, but
  for organisations, a comma ("Larnaca, Cyprus");
- the words of a name or the word before it can overrule the model's label:
  "Iraqi News Agency", "Manchester United", "Bank of Japan" and "firm Multico"
  are organisations, "UEFA Cup" and "U.S. Open" events, "spokesman Glyn Davies"
  a person, a "City" or "Town" the gazetteer does not know is a club
  ("Norwich City", not "Mexico City"), and a "place" it does not know that is
  the surname of a person in the article is that person ("Lebed");
- results lines of sports pages are read as such (see "results tables"): teams
  in score lines, league tables and fixtures are organisations (national sides
  places), competitors with a country in parentheses and the players of a
  line-up are people, grounds ("At Hove:") and the competitors' countries are
  places, and a team that is also the venue or the dateline of the
  article ("Kansas City at Detroit") is two entities, the team and the place;
- a company's first word alone joins its full name ("Magna" -> "Magna
  International Inc");
- each entity gets one type by vote over its mentions, where a team of a results
  line or a label called for by the words of the name weighs more, and a
  salience in [0, 1].

The rules are the named passes of ``passes.PASSES`` (``newsflow eval ner
--ablate`` switches each off in turn); their word lists are in ``data/words.json``
and country names, codes, aliases and demonyms in ``data/countries.json``
(``countries``). A pass that raises on an article costs that article the pass,
never its entities (``extract(...).degraded``).

Everything here is pure: plain strings and spans in, models out.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.models import Entity

from ._base import KEPT_LABELS, SEPARATOR, EntitySpan, Field, PlaceNames, RawSpan, ner_text
from .assemble import TIME_LABELS, extract_dates
from .countries import COUNTRY_CODES, DEMONYMS, canonical_alias, country_aliases
from .passes import PASS_NAMES, PASSES, Extraction, Pass, extract

__all__ = [
    "COUNTRY_CODES",
    "DEMONYMS",
    "KEPT_LABELS",
    "PASSES",
    "PASS_NAMES",
    "SEPARATOR",
    "TIME_LABELS",
    "EntitySpan",
    "Extraction",
    "Field",
    "Pass",
    "PlaceNames",
    "RawSpan",
    "canonical_alias",
    "country_aliases",
    "extract",
    "extract_dates",
    "extract_entities",
    "ner_text",
]


def extract_entities(
    title: str,
    body: str,
    spans: Iterable[EntitySpan],
    places: PlaceNames | None = None,
) -> list[Entity]:
    """Canonical entities of one article from NER spans over ``ner_text(title, body)``.

    Returns entities sorted by salience (descending) then name; each entity's
    mentions are sorted title first, then by start offset, and every mention's
    ``text`` equals ``<field>[start:end]``. Spans with other labels and junk
    spans are dropped; a span running from the title into the body counts as one
    candidate on each side. With a gazetteer (``places``), a dateline the model
    missed ("BELGRADE - ...") becomes a place, and a country name the model
    called a person or organisation becomes a GPE. Never raises for spans within
    the NER text: a pass that fails is left out (see ``extract``).
    """
    return extract(title, body, spans, places).entities
