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

Everything here is pure: plain strings and spans in, models out.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol, cast

from shared.models import ENTITY_TYPES, Entity, EntityType, Mention

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


# --- aliases -------------------------------------------------------------------
# Whole-span aliases only: "US" is the country, "US State Department" is not.
# Acronyms match exactly (dots removed) so that "Us" or "us" never becomes a
# country; written-out names match case-insensitively.
_ALIASES: dict[str, tuple[str, ...]] = {
    "United States": (
        "US",
        "U.S.",
        "USA",
        "U.S.A.",
        "America",
        "United States",
        "United States of America",
    ),
    "United Kingdom": (
        "UK",
        "U.K.",
        "Britain",
        "Great Britain",
        "United Kingdom",
        "United Kingdom of Great Britain and Northern Ireland",
    ),
    "United Arab Emirates": ("UAE", "U.A.E.", "United Arab Emirates"),
    "European Union": ("EU", "E.U.", "European Union"),
    "United Nations": ("UN", "U.N.", "United Nations"),
    "NATO": ("NATO", "Nato", "North Atlantic Treaty Organization"),
    "Soviet Union": ("USSR", "U.S.S.R.", "Soviet Union"),
    "Russia": ("Russian Federation",),
    "China": ("PRC", "People's Republic of China", "People’s Republic of China", "Mainland China"),
    "South Korea": ("ROK", "Republic of Korea", "S. Korea", "S Korea"),
    "North Korea": (
        "DPRK",
        "Democratic People's Republic of Korea",
        "Democratic People’s Republic of Korea",
        "N. Korea",
    ),
    "Democratic Republic of the Congo": (
        "DRC",
        "DR Congo",
        "D.R. Congo",
        "Democratic Republic of Congo",
        "Congo-Kinshasa",
    ),
    "Netherlands": ("Holland", "Netherlands"),
    "Myanmar": ("Burma",),
    "Czechia": ("Czech Republic",),
    "Turkey": ("Türkiye", "Turkiye"),
    "Ivory Coast": ("Côte d'Ivoire", "Cote d'Ivoire", "Côte d’Ivoire", "Cote d’Ivoire"),
    "Saudi Arabia": ("KSA", "Kingdom of Saudi Arabia"),
    "Iran": ("Islamic Republic of Iran",),
    "Syria": ("Syrian Arab Republic",),
    "New Zealand": ("NZ",),
    "Eswatini": ("Swaziland",),
    "North Macedonia": ("FYROM",),
    "Vatican City": ("Vatican", "Holy See"),
    "Vietnam": ("Viet Nam",),
    "Laos": ("Lao PDR",),
    "Cape Verde": ("Cabo Verde",),
    "Timor-Leste": ("East Timor",),
    "Bosnia and Herzegovina": ("Bosnia-Herzegovina", "Bosnia"),
    "Hong Kong": ("HK",),
    "New York City": ("NYC",),
}

# ISO 3166-1 alpha-2 codes of countries commonly named in English news, set as
# ``Entity.country_code`` on GPE entities with exactly this canonical name.
COUNTRY_CODES: dict[str, str] = {
    "Afghanistan": "AF",
    "Albania": "AL",
    "Algeria": "DZ",
    "Argentina": "AR",
    "Armenia": "AM",
    "Australia": "AU",
    "Austria": "AT",
    "Azerbaijan": "AZ",
    "Bahrain": "BH",
    "Bangladesh": "BD",
    "Belarus": "BY",
    "Belgium": "BE",
    "Bolivia": "BO",
    "Bosnia and Herzegovina": "BA",
    "Brazil": "BR",
    "Bulgaria": "BG",
    "Cambodia": "KH",
    "Cameroon": "CM",
    "Canada": "CA",
    "Cape Verde": "CV",
    "Chile": "CL",
    "China": "CN",
    "Colombia": "CO",
    "Croatia": "HR",
    "Cuba": "CU",
    "Cyprus": "CY",
    "Czechia": "CZ",
    "Democratic Republic of the Congo": "CD",
    "Denmark": "DK",
    "Ecuador": "EC",
    "Egypt": "EG",
    "Estonia": "EE",
    "Eswatini": "SZ",
    "Ethiopia": "ET",
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "Ghana": "GH",
    "Greece": "GR",
    "Hong Kong": "HK",
    "Hungary": "HU",
    "Iceland": "IS",
    "India": "IN",
    "Indonesia": "ID",
    "Iran": "IR",
    "Iraq": "IQ",
    "Ireland": "IE",
    "Israel": "IL",
    "Italy": "IT",
    "Ivory Coast": "CI",
    "Japan": "JP",
    "Jordan": "JO",
    "Kazakhstan": "KZ",
    "Kenya": "KE",
    "Kuwait": "KW",
    "Laos": "LA",
    "Latvia": "LV",
    "Lebanon": "LB",
    "Libya": "LY",
    "Lithuania": "LT",
    "Luxembourg": "LU",
    "Malaysia": "MY",
    "Mali": "ML",
    "Mexico": "MX",
    "Moldova": "MD",
    "Morocco": "MA",
    "Myanmar": "MM",
    "Nepal": "NP",
    "Netherlands": "NL",
    "New Zealand": "NZ",
    "Nigeria": "NG",
    "North Korea": "KP",
    "North Macedonia": "MK",
    "Norway": "NO",
    "Oman": "OM",
    "Pakistan": "PK",
    "Peru": "PE",
    "Philippines": "PH",
    "Poland": "PL",
    "Portugal": "PT",
    "Qatar": "QA",
    "Romania": "RO",
    "Russia": "RU",
    "Rwanda": "RW",
    "Saudi Arabia": "SA",
    "Senegal": "SN",
    "Serbia": "RS",
    "Singapore": "SG",
    "Slovakia": "SK",
    "Slovenia": "SI",
    "Somalia": "SO",
    "South Africa": "ZA",
    "South Korea": "KR",
    "South Sudan": "SS",
    "Spain": "ES",
    "Sri Lanka": "LK",
    "Sudan": "SD",
    "Sweden": "SE",
    "Switzerland": "CH",
    "Syria": "SY",
    "Taiwan": "TW",
    "Thailand": "TH",
    "Timor-Leste": "TL",
    "Tunisia": "TN",
    "Turkey": "TR",
    "Uganda": "UG",
    "Ukraine": "UA",
    "United Arab Emirates": "AE",
    "United Kingdom": "GB",
    "United States": "US",
    "Uruguay": "UY",
    "Uzbekistan": "UZ",
    "Vatican City": "VA",
    "Venezuela": "VE",
    "Vietnam": "VN",
    "Yemen": "YE",
    "Zambia": "ZM",
    "Zimbabwe": "ZW",
}


def _alias_key(text: str) -> str:
    return text.replace(".", "").replace("’", "'")


_ACRONYM_ALIASES: dict[str, str] = {}
_WORD_ALIASES: dict[str, str] = {}
for _canonical, _forms in _ALIASES.items():
    for _form in (_canonical, *_forms):
        _key = _alias_key(_form)
        if _key.isupper():
            _ACRONYM_ALIASES[_key] = _canonical
        else:
            _WORD_ALIASES[_key.casefold()] = _canonical


def country_aliases(name: str) -> tuple[str, ...]:
    """The aliases of a canonical country name ("United States" -> "US", "America", ...)."""
    return _ALIASES.get(name, ())


def canonical_alias(name: str) -> str | None:
    """The canonical name ``name`` is an alias of as a whole ("U.S." -> "United
    States"), else ``None``."""
    key = _alias_key(name)
    return _ACRONYM_ALIASES.get(key) or _WORD_ALIASES.get(key.casefold())


# --- cleaning ------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Lower-case words that may start a name ("al-Sadr", "van Gogh", "de Gaulle").
_PARTICLES = _words(
    "al el ad ash at az de del della der den di da das dos du la le les van von ibn bin "
    "bint ben ter zu d l y e o"
)
# Titles that precede a name and are not part of it.
_HONORIFICS = _words("mr mrs ms miss dr prof sir dame lord lady")
_HONORIFIC_RE = re.compile(r"(?:" + "|".join(sorted(_HONORIFICS)) + r")\.?\s+(?=\S)", re.IGNORECASE)
# Further titles that may stand before a surname the model missed ("President Trump").
_TITLES = _HONORIFICS | _words(
    "president vice secretary senator sen rep representative governor gov general gen "
    "minister prime chancellor judge justice professor captain capt coach king queen "
    "prince princess pope rev reverend mayor chairman chairwoman chair ceo speaker "
    "leader commander colonel col sergeant sgt lieutenant lt admiral adm ambassador "
    "spokesman spokeswoman"
)
# Titles right before a name that make it a person.
_PERSON_TITLES = _TITLES - _words("general gen king queen prince princess chair leader") | _words(
    "coach striker midfielder defender goalkeeper captain batsman bowler pitcher"
)
# Single words the model sometimes tags on their own ("Secretary of State" ->
# "State") that never name one thing by themselves.
_GENERIC_WORDS = _words(
    "state states department ministry government administration agency office secretary "
    "president minister spokesman spokeswoman prime premier chairman"
)

# Common nouns that head lines of sports pages and tables, never names by
# themselves ("BASEBALL - ...", "Women's 200 metres", "Attendance: 6,500").
_COMMON_NOUNS = _words(
    "baseball basketball football soccer cricket tennis golf athletics squash rugby boxing "
    "cycling swimming hockey skiing rowing sailing racing motorsport motocross wrestling "
    "men women men's women's attendance result results standings bowling batting extras "
    "total totals sales revenue revenues turnover exports imports deficit surplus volumes"
) | {"motor racing", "ice hockey", "net income", "net profit"}

_EDGE_CHARS = " \t\r\n\"'“”‘’«»„‚()[]{}<>,;:!?*•·|/\\-–—_"
_POSSESSIVE_RE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_LETTER_RE = re.compile(r"[^\W\d_]")
_SPACE_RE = re.compile(r"\s+")
_ARTICLE_RE = re.compile(r"^the\s+", re.IGNORECASE)
_WORD_SPLIT_RE = re.compile(r"[-'’]")
_LEADING_ARTICLE_RE = re.compile(r"(?:the|The|THE)\s+")
_EDGE_NUMBER_END_RE = re.compile(r"\s+[^\s\w]*\d[^\s]*$")
_EDGE_NUMBER_START_RE = re.compile(r"[^\s\w]*\d[^\s]*\s+")
# Where one span holds two names: a line break, a spaced dash, a parenthesis, a
# "v" between two sides ("Lithuania - Danius Gleveckas", "Scott Draper
# (Australia)", "Montrose v Ross County").
_BREAK_CHAR_RE = re.compile(r"[\n()\[\]\-–—,\d]| v")
_ORG_BREAK = r"\s*\n\s*|\s+[-–—]+\s+|\s*[()\[\]]\s*|\s+vs?\.?(?:\s+|$)|\s+\d+\s+"
_ORG_BREAK_RE = re.compile(_ORG_BREAK)
_SPAN_BREAK_RE = re.compile(_ORG_BREAK + r"|,\s+(?!(?i:inc|corp|co|ltd|llc|plc|jr|sr)\b)")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` past surrounding punctuation, quotes and possessives."""
    for _ in range(3):  # a possessive may sit inside a closing quote and vice versa
        before = start, end
        while start < end and text[start] in _EDGE_CHARS:
            start += 1
        while end > start and text[end - 1] in _EDGE_CHARS:
            end -= 1
        match = _POSSESSIVE_RE.search(text, start, end)
        if match and match.start() > start:
            end = match.start()
        # A final period is sentence punctuation unless the name is an
        # abbreviation ("U.S.", "Inc."): keep it when the last word is short or
        # already dotted.
        if end > start and text[end - 1] == ".":
            last_word = text[start:end].rsplit(None, 1)[-1]
            if len(last_word) > 5 and "." not in last_word[:-1]:
                end -= 1
        # The article is not part of the name ("the United States").
        article = _LEADING_ARTICLE_RE.match(text, start, end)
        if article and article.end() < end:
            start = article.end()
        # Scores and counts beside a name ("Kersey 63", "Mexico 2-0", "64 Bob Estes").
        while (match := _EDGE_NUMBER_END_RE.search(text, start, end)) and match.start() > start:
            end = match.start()
        while (match := _EDGE_NUMBER_START_RE.match(text, start, end)) and match.end() < end:
            start = match.end()
        if (start, end) == before:
            break
    return start, end


def _word_before(text: str, start: int) -> str | None:
    """The word before ``text[start]`` when only white space separates them."""
    end = start
    while end > 0 and text[end - 1].isspace():
        end -= 1
    if end in (start, 0):
        return None
    begin = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end), text.rfind("\t", 0, end))
    return text[begin + 1 : end]


def _clean_name(surface: str, label: str) -> str:
    name = _SPACE_RE.sub(" ", surface)
    stripped = _ARTICLE_RE.sub("", name)
    if stripped:
        name = stripped
    if label == "PERSON":
        words = name.split(" ")
        while len(words) > 1 and words[0].rstrip(".").casefold() in _HONORIFICS:
            words = words[1:]
        name = " ".join(words)
    return name


def _is_junk(name: str) -> bool:
    if len(name) < 2 or not _LETTER_RE.search(name):
        return True
    first = name.split(" ", 1)[0]
    if first.islower() and _WORD_SPLIT_RE.split(first)[0] not in _PARTICLES:
        return True
    key = name.casefold()
    return (" " not in name and key in _GENERIC_WORDS) or key in _COMMON_NOUNS


def _is_all_caps(name: str) -> bool:
    return name.isupper() and len(_LETTER_RE.findall(name)) > 1


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
        while (match := _HONORIFIC_RE.match(text, start, end)) and match.end() < end:
            start = match.end()
    if start >= end:
        return None
    surface = text[start:end]
    name = _clean_name(surface, label)
    if _is_junk(name):
        return None
    sure = _relabel(text, start, name, label)
    offset = article.offset(field, start)
    mention = _Mention(field, start, end, surface, name, sure or label, offset, sure=bool(sure))
    if label != "PERSON":
        mention.alias = canonical_alias(name)
    return mention


# Words that make a name an organisation ("Iraqi News Agency", "Bank of Japan",
# "Manchester United"). The strong ones overrule any label, the weak ones only
# PERSON: "Manchester City" is a club but "Mexico City" a place.
_ORG_LAST_WORDS = _words(
    "inc corp corporation co company ltd llc plc ag gmbh sa spa nv bv oy ab asa group holdings "
    "industries motors "
    "airlines airways bancorp securities newsroom newsdesk news times post journal herald "
    "tribune gazette telegraph zeitung agency television radio party ministry council "
    "committee commission association federation institute university college board "
    "bureau authority police army navy fc afc united rovers wanderers athletic albion "
    "rangers thistle hotspur harriers"
)
# Words that end the name of a competition ("UEFA Cup", "U.S. Open").
_EVENT_LAST_WORDS = _words("cup trophy championship championships games open series tour prix")
# Lower-case words right before a name that make it an organisation.
_ORG_HEAD_WORDS = _words(
    "firm company group club side team newspaper daily weekly magazine publisher bank "
    "carrier agency broker brokerage airline insurer maker producer manufacturer retailer "
    "distributor chain operator conglomerate utility brewer network broadcaster station party"
)
_ORG_LAST_WORDS_WEAK = _words("city county town bank union club")
_ORG_FIRST_WORDS = _words(
    "bank ministry university institute federation association council commission committee "
    "fc ac sc cf sv vfb vfl real atletico dynamo dinamo sporting olympique"
)


def _relabel(text: str, start: int, name: str, label: str) -> str | None:
    """The label the name itself or the word before it calls for, if any: an
    organisation by the words above or after a word such as "firm" or "club"
    ("mineral water firm Multico"), a person after a title ("spokesman Glyn
    Davies" tagged ORG), not a person when it starts with "St" ("St Pauli")."""
    words = name.casefold().split(" ")
    if len(words) > 1 and label != "EVENT" and words[-1] in _EVENT_LAST_WORDS:
        return "EVENT"
    if len(words) > 1 and label != "ORG":
        if words[-1].rstrip(".") in _ORG_LAST_WORDS or words[0] in _ORG_FIRST_WORDS:
            return "ORG"
        if label == "PERSON" and (words[-1] in _ORG_LAST_WORDS_WEAK or words[0] in ("st", "st.")):
            return "ORG"
    before = _word_before(text, start)
    if before is None:
        return None
    if label != "ORG" and before in _ORG_HEAD_WORDS:
        return "ORG"
    if label in ("ORG", "GPE", "NORP") and before.casefold() in _PERSON_TITLES:
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


def _contains_word(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` with no word character either side."""
    start = text.find(phrase)
    while start >= 0:
        end = start + len(phrase)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = text.find(phrase, start + 1)
    return False


def _place_words(mentions: Iterable[_Mention]) -> set[str]:
    places: set[str] = set()
    for m in mentions:
        if m.label in ("GPE", "LOC"):
            places.add(m.name.casefold())
            if m.alias:
                places.add(m.alias.casefold())
    return places


def _is_slogan(name: str, mentions: list[_Mention], places: set[str]) -> bool:
    """A PERSON span ending in a place named in the article ("Screw Iran",
    "Death to America") is a slogan. This also drops a real person whose surname
    is such a place ("Michael Jordan" beside the country Jordan): a rare loss
    accepted to keep slogans out."""
    words = name.casefold().split(" ")
    if len(words) < 2 or not any(m.label == "PERSON" for m in mentions):
        return False
    return words[-1] in places or " ".join(words[-2:]) in places


# --- people --------------------------------------------------------------------


class _People:
    """Multi-token PERSON entities and the partial names that can join them."""

    def __init__(self, groups: dict[str, list[_Mention]], display: dict[str, str]) -> None:
        self.tokens = {
            key: _tokens(display[key])
            for key, mentions in groups.items()
            if len(_tokens(display[key])) >= 2 and _plurality(mentions) == "PERSON"
        }
        # A shorter full name inside a longer one ("Abdel Mahdi" in "Adel Abdel
        # Mahdi") belongs to the longer one when that is the only candidate.
        self.root = {key: key for key in self.tokens}
        for key in sorted(self.tokens, key=lambda k: -len(self.tokens[k])):
            toks = self.tokens[key]
            roots = {
                self.root[other]
                for other, other_toks in self.tokens.items()
                if len(other_toks) > len(toks)
                and (other_toks[: len(toks)] == toks or other_toks[-len(toks) :] == toks)
            }
            if len(roots) == 1:
                self.root[key] = roots.pop()

    def candidates(self, mention: _Mention) -> set[str]:
        """Roots of the people a one-word mention can be, as the first or the
        last word of the full name; the model also tags such words ORG ("the
        Trump administration", "Wang" of "Wang Donghai")."""
        if " " in mention.name or mention.label not in ("PERSON", "ORG"):
            return set()
        word = mention.name.casefold()
        found: set[str] = set()
        for key, toks in self.tokens.items():
            if toks[-1] == word or toks[0] == word:
                found.add(self.root[key])
        return found

    def surnames(self) -> dict[str, str]:
        """Surname (lower case) -> root, for surnames that belong to one person only."""
        owners: dict[str, set[str]] = defaultdict(set)
        for key, toks in self.tokens.items():
            owners[toks[-1]].add(self.root[key])
        return {word: next(iter(roots)) for word, roots in owners.items() if len(roots) == 1}


def _nearest_root(mention: _Mention, roots: set[str], groups: dict[str, list[_Mention]]) -> str:
    """Among several people, the one mentioned last before ``mention``, else the
    one mentioned first in the article."""
    best: tuple[int, str] | None = None
    for root in roots:
        before = [m.offset for m in groups[root] if m.offset < mention.offset]
        if before and (best is None or max(before) > best[0]):
            best = (max(before), root)
    if best is not None:
        return best[1]
    return min(roots, key=lambda r: (min(m.offset for m in groups[r]), r))


def _join_people(
    groups: dict[str, list[_Mention]], display: dict[str, str], context: _Context
) -> None:
    people = _People(groups, display)
    for key, root in people.root.items():
        if key != root:
            for m in groups.pop(key):
                m.joined = True
                groups[root].append(m)
    for key in [k for k in groups if k not in people.root]:
        stay: list[_Mention] = []
        for m in groups[key]:
            roots = people.candidates(m)
            if not roots:
                stay.append(m)
                continue
            root = roots.pop() if len(roots) == 1 else _nearest_root(m, roots, groups)
            m.joined = True
            groups[root].append(m)
        if stay:
            groups[key] = stay
        else:
            del groups[key]
    _find_missed_surnames(groups, display, people, context)


@dataclass(slots=True)
class _Context:
    """One article and what the model found in it, for the joining steps."""

    article: _Article
    chars: bytearray  # 1 for each character of the NER text in a span or a mention
    places: set[str]

    def covered(self, start: int, end: int) -> bool:
        """Whether a span of the model, whatever its label, or a mention
        overlaps ``[start, end)`` of the NER text."""
        return self.chars.find(1, start, end) != -1


def _find_missed_surnames(
    groups: dict[str, list[_Mention]],
    display: dict[str, str],
    people: _People,
    context: _Context,
) -> None:
    """Add the occurrences of a known person's surname that no span covers
    ("Pompeo, speaking to reporters" at a sentence start)."""
    article = context.article
    other_names = {k for k in groups if k not in people.root}
    for word, root in people.surnames().items():
        if len(word) < 3 or word in context.places or word in other_names:
            continue
        written = display[root].split(" ")[-1]
        if not written[:1].isupper():
            continue
        allowed_before = set(people.tokens[root]) | _TITLES
        for field in ("title", "body"):
            text = article.field_text(field)
            for start in _find_all(text, written):
                end = start + len(written)
                if start > 0 and (_is_word_char(text[start - 1]) or text[start - 1] in "'’-"):
                    continue
                if end < len(text) and (_is_word_char(text[end]) or text[end] == "-"):
                    continue
                offset = article.offset(field, start)
                if context.covered(offset, offset + len(written)):
                    continue
                if _in_longer_name(text, start, end, allowed_before):
                    continue
                groups[root].append(
                    _Mention(field, start, end, written, written, "PERSON", offset, joined=True)
                )


def _in_longer_name(text: str, start: int, end: int, allowed_before: set[str]) -> bool:
    """Whether a capitalised word sits right beside ``text[start:end]`` ("Trump
    Tower", "Ivanka Trump"), so the word may name something else."""
    after = text[end : end + 2]
    if len(after) == 2 and after[0] == " " and after[1].isupper():
        return True
    prev = _word_before(text, start)
    if prev is None:
        return False
    if not prev[:1].isupper() or not prev[-1].isalnum():
        return False  # lower-case word, or punctuation ends the previous phrase
    return prev.rstrip(".").casefold() not in allowed_before


def _join_plural_nationalities(groups: dict[str, list[_Mention]]) -> None:
    for key in [k for k in groups if k.endswith("s")]:
        singular = key[:-1]
        if (
            singular in groups
            and _plurality(groups[key]) == "NORP"
            and _plurality(groups[singular]) == "NORP"
        ):
            groups[singular].extend(groups.pop(key))


def _join_qualified_orgs(groups: dict[str, list[_Mention]]) -> None:
    """ "State Department" joins "US State Department" when a place or nationality
    qualifies the only longer form of the same organisation in the article."""
    labels = {k: _plurality(ms) for k, ms in groups.items()}
    qualifiers = {k for k, label in labels.items() if label in ("GPE", "LOC", "NORP")} | {
        m.name.casefold() for ms in groups.values() for m in ms if m.label in ("GPE", "NORP")
    }
    orgs = [k for k, label in labels.items() if label == "ORG"]
    for short in orgs:
        longer = [k for k in orgs if k.endswith(" " + short) and k[: -len(short) - 1] in qualifiers]
        if len(longer) == 1 and short in groups:
            groups[longer[0]].extend(groups.pop(short))


_CORPORATE_SUFFIX_RE = re.compile(
    r",?\s+(?:inc|corp|corporation|co|ltd|llc|plc|ag|sa|nv|gmbh|se|spa)\.?$", re.IGNORECASE
)


def _join_corporate_suffixes(groups: dict[str, list[_Mention]]) -> None:
    """ "Apple Inc." joins "Apple" when the article also names it without the
    suffix; "Magna International Inc" then takes in the company's first word alone
    ("Magna"), which is the company too unless it is a place or a nationality."""
    for key in list(groups):
        bare = _CORPORATE_SUFFIX_RE.sub("", key)
        if bare == key or _plurality(groups[key]) != "ORG":
            continue
        home = key
        if bare in groups:
            groups[bare].extend(groups.pop(key))
            home = bare
        first = bare.split(" ", 1)[0]
        if (
            first != bare
            and first in groups
            and _plurality(groups[first]) not in ("GPE", "LOC", "NORP")
        ):
            for m in groups[first]:
                m.label = "ORG"
            groups[home].extend(groups.pop(first))


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
    the NER text.
    """
    article = _Article(title, body)
    span_list: Sequence[EntitySpan] = sorted(spans, key=lambda s: (s.start_char, s.end_char))
    mentions = [m for span in span_list for m in _to_mentions(article, span)]
    covered = bytearray(len(article.text) + 1)
    for span in span_list:
        covered[span.start_char : span.end_char] = b"\x01" * (span.end_char - span.start_char)
    dateline = _dateline(article, covered, places)
    if dateline is not None:
        mentions.append(dateline)
    _clubs_named_after_places(mentions, places)
    _surnames_read_as_places(mentions, places)
    mentions = _results_tables(article, mentions, covered, places)
    _mark_dateline(article, mentions)
    if not mentions:
        return []

    groups: dict[str, list[_Mention]] = defaultdict(list)
    for m in mentions:
        groups[_group_key(m)].append(m)
    place_words = _place_words(mentions)
    display = {key: _display_name(article, ms) for key, ms in groups.items()}
    for key in [k for k in groups if _is_slogan(display[k], groups[k], place_words)]:
        del groups[key]
    _join_plural_nationalities(groups)
    _join_qualified_orgs(groups)
    _join_corporate_suffixes(groups)
    _join_acronyms(groups, display, article)

    _split_venues(groups, display)
    context = _Context(article, covered, place_words)
    _join_people(groups, display, context)
    _propagate_names(groups, article, covered)
    if not groups:
        return []

    max_count = max(len(ms) for ms in groups.values())
    lead_end = _lead_end(body)
    entities: list[Entity] = []
    for key, group in groups.items():
        group.sort(key=lambda m: m.offset)
        name = display[key]
        entity_type = _vote(group, person_form=" " in name and "PERSON" in (m.label for m in group))
        if (
            places is not None
            and entity_type in ("PERSON", "ORG", "LOC")
            and places.place_kind(name) == "country"
        ):
            entity_type = "GPE"  # "Japan" as a team, "Belarus" read as a person
        country = COUNTRY_CODES.get(name) if entity_type == "GPE" else None
        entities.append(
            Entity(
                name=name,
                type=entity_type,
                salience=round(_salience(group, max_count, len(title), lead_end, len(body)), 4),
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


def _trim_plain(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE_CHARS:
        start += 1
    while end > start and text[end - 1] in _EDGE_CHARS:
        end -= 1
    return start, end


def _surnames_read_as_places(mentions: list[_Mention], places: PlaceNames | None) -> None:
    """A single word tagged as a place that the gazetteer does not know and that
    is the surname of a person named in the article ("Lebed" beside "Alexander
    Lebed") is that person."""
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
            and places.place_kind(m.name) is None
        ):
            m.label = "PERSON"


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
_TEAM_NAME = r"[A-Z][\w'’&.-]*(?: (?!(?:AT|V|VS)\b)(?:[A-Z][\w'’&.-]*|of|de|del|la|&))*"
_SCORED_NAME_RE = re.compile(rf"(?<![\w'’&.-]){_TEAM_NAME}(?= +[-+]?\.?\d)")
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
_COMPETITOR_RE = re.compile(rf"(?<![\w'’&.-])({_PERSON_NAME} [A-Z][\w'’.-]+) \(([A-Z][\w.'’ -]+)\)")
_VENUE_RE = re.compile(rf"At ({_TEAM_NAME})(?: \(({_TEAM_NAME})\))?: ")
_NUMBERED_PLAYER_RE = re.compile(rf"(?:^|(?<=[-,;:(])|(?<=[-,;:(] ))\d\d? *- *({_PERSON_NAME})")


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


# Nations that field their own teams though a gazetteer may call them regions.
_HOME_NATIONS = frozenset({"england", "scotland", "wales", "northern ireland"})


def _is_country(name: str, places: PlaceNames | None) -> bool:
    """Whether a team name is a nation's ("Japan", "U.S.", "Scotland")."""
    if name.casefold() in _HOME_NATIONS:
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
        """Put ``new`` in the place of the mentions ``old``."""
        self.mentions = [m for m in self.mentions if all(m is not o for o in old)]
        i = bisect.bisect_left([m.start for m in self.mentions], new.start)
        self.mentions.insert(i, new)
        self.starts = [m.start for m in self.mentions]


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
                country = _is_country(text[start:end], places)
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


_INITIAL_STOPWORDS = _words("of for and the in on at de du la des")


def _initials(name: str) -> str:
    words = [w for w in re.split(r"[\s-]+", name) if w]
    letters = [w[0] for w in words if w.casefold() not in _INITIAL_STOPWORDS]
    return "".join(letters).upper() if all(c.isalpha() for c in letters) else ""


def _join_acronyms(
    groups: dict[str, list[_Mention]], display: dict[str, str], article: _Article
) -> None:
    """An acronym written in parentheses after a name ("Kurdistan Democratic
    Party (KDP)") is that name: its group joins, and the parenthesised acronym
    becomes a mention so that its later uses are found too."""
    for key in list(groups):
        group = groups.get(key)
        if group is None or " " not in display[key]:
            continue
        initials = _initials(display[key])
        if len(initials) < 2:
            continue
        pattern = re.compile(r"\s*\(\s*(" + re.escape(initials) + r")\s*\)")
        for m in list(group):
            text = article.field_text(m.field)
            match = pattern.match(text, m.end)
            if match is None:
                continue
            short = initials.casefold()
            if short in groups and short != key:
                group.extend(groups.pop(short))
            elif not any(o.start == match.start(1) and o.field == m.field for o in group):
                group.append(
                    _Mention(
                        m.field,
                        match.start(1),
                        match.end(1),
                        initials,
                        initials,
                        m.label,
                        article.offset(m.field, match.start(1)),
                    )
                )
            break


# Capitalised words that may stand before a name without being part of it
# ("The KDP said", "President Lebed").
_NOT_A_NAME_BEFORE = set(_TITLES) | set(
    _words("the a an in on at by for from with as to of and but or if when while after")
)


def _propagatable(form: str) -> bool:
    if not form[:1].isupper() or "\n" in form:
        return False
    if " " in form:
        return True
    return len(form) >= 3 or (len(form) == 2 and form.isupper())


def _propagate_names(
    groups: dict[str, list[_Mention]], article: _Article, covered: bytearray
) -> None:
    """Add the occurrences of an entity's written forms that no span covers: the
    model tags "Lebed" in one sentence and misses it in the next. A form that two
    entities share is left alone; in an all-capital line (a headline) the
    capitalised form is looked for too."""
    owner: dict[str, str] = {}
    shared: set[str] = set()
    known: dict[tuple[str, str], int] = {}  # mentions per field and written form
    for key, group in groups.items():
        for m in group:
            known[m.field, m.text] = known.get((m.field, m.text), 0) + 1
            offset = m.offset
            covered[offset : offset + m.end - m.start] = b"\x01" * (m.end - m.start)
            for form in {m.text, m.text.upper()}:
                if not _propagatable(form):
                    continue
                if owner.setdefault(form, key) != key:
                    shared.add(form)
    forms = sorted((f for f in owner if f not in shared), key=len, reverse=True)
    if not forms:
        return
    labels = {key: _plurality(group) for key, group in groups.items()}
    for field in ("title", "body"):
        text = article.field_text(field)
        base = article.offset(field, 0)
        taken = covered[base : base + len(text)]  # also the occurrences looked at
        for form in forms:
            if text.count(form) <= known.get((field, form), 0):
                continue  # no occurrence but those already found
            key = owner[form]
            for start in _find_all(text, form):
                end = start + len(form)
                if not _free_standing(text, start, end):
                    continue
                seen = taken.find(1, start, end) != -1
                taken[start:end] = b"\x01" * (end - start)  # no shorter form inside it
                if seen:
                    continue
                line_start = text.rfind("\n", 0, start) + 1
                line_end = text.find("\n", end)
                caps_line = text[line_start : len(text) if line_end < 0 else line_end].isupper()
                if form.isupper() and not caps_line and form not in {m.text for m in groups[key]}:
                    continue  # the capitalised form only in headlines
                if not caps_line and _in_longer_name(text, start, end, _NOT_A_NAME_BEFORE):
                    continue
                offset = base + start
                covered[offset : offset + end - start] = b"\x01" * (end - start)
                groups[key].append(_Mention(field, start, end, form, form, labels[key], offset))


def _find_all(text: str, word: str) -> Iterator[int]:
    """The start of each occurrence of ``word`` in ``text``."""
    start = text.find(word)
    while start != -1:
        yield start
        start = text.find(word, start + 1)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _free_standing(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is not part of a longer word, name or
    abbreviation ("Lebed" but not "Lebedev", "U.S" of "U.S.A")."""
    if start > 0 and (_is_word_char(before := text[start - 1]) or before in "'’&.-"):
        return False
    if end < len(text):
        after = text[end]
        if _is_word_char(after) or after in "&-":
            return False
        if after == "." and end + 1 < len(text) and _is_word_char(text[end + 1]):
            return False
    return True
