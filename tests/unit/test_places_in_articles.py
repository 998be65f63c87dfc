"""Places as a reader of an enriched article sees them: whole articles through
``Enricher.enrich_batch`` with the real spaCy model and the real gazetteer.

Each article is written for this test; each case is one of the failures reported
in issue 11 (a person, a song or a party put on the map; a town put in the wrong
country by a bigger namesake).
"""

from __future__ import annotations

import pytest

from services.enrich.pipeline import Enricher
from shared.models import EnrichedArticle, Entity
from shared.settings import Settings
from tests.unit.test_enrich_pipeline import make_article as article


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Settings(ner="on", spacy_model=None, taxonomy_path=None))


def enrich(enricher: Enricher, title: str, body: str) -> EnrichedArticle:
    [enriched] = enricher.enrich_batch([article(title, body)])
    return enriched


def place(enriched: EnrichedArticle, surface: str) -> Entity:
    """The GPE/LOC entity the article calls ``surface``."""
    for entity in enriched.entities:
        if entity.type in ("GPE", "LOC") and surface in (entity.name, *entity.surface_forms):
            return entity
    raise AssertionError(f"no place {surface!r} in {[e.name for e in enriched.entities]}")


def on_map(entity: Entity) -> bool:
    return any(
        value is not None
        for value in (entity.country_code, entity.geonames_id, entity.latitude, entity.region_code)
    )


def covering(enriched: EnrichedArticle, text: str, field: str = "body") -> list[Entity]:
    """Every entity with a mention inside the first occurrence of ``text``."""
    source = enriched.body if field == "body" else enriched.title
    start = source.index(text)
    end = start + len(text)
    return [
        e
        for e in enriched.entities
        if any(m.field == field and m.start < end and m.end > start for m in e.mentions)
    ]


# -- regions ---------------------------------------------------------------------


def test_states_provinces_and_nations_are_places_with_region_codes(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Storms and wildfires across four continents",
        "Monsoon rains flooded villages in Kerala and cyclone warnings went up in "
        "Queensland, while crews fought wildfires in Ontario. Scotland had its wettest "
        "October on record and Illinois declared a drought emergency.",
    )

    codes = {
        name: (place(enriched, name).country_code, place(enriched, name).region_code)
        for name in ("Kerala", "Queensland", "Ontario", "Scotland", "Illinois")
    }
    assert codes == {
        "Kerala": ("IN", "IN-KL"),
        "Queensland": ("AU", "AU-QLD"),
        "Ontario": ("CA", "CA-ON"),  # the province, not the Californian city
        "Scotland": ("GB", "GB-SCT"),
        "Illinois": ("US", "US-IL"),
    }
    assert place(enriched, "Ontario").latitude is None  # a region: its codes, no point


# -- a city inside the region or country that follows it -------------------------


def test_london_ontario_is_the_canadian_london(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Flash floods shut roads in London, Ontario",
        "Streets in London, Ontario, were under water on Tuesday after a night of "
        "storms. The mayor of the Canadian city said pumps were running all night.",
    )

    london = place(enriched, "London")
    assert (london.country_code, london.region_code, london.geonames_id) == (
        "CA",
        "CA-ON",
        6058560,
    )
    assert london.latitude == pytest.approx(42.98, abs=0.1)
    assert (place(enriched, "Ontario").country_code, place(enriched, "Ontario").region_code) == (
        "CA",
        "CA-ON",
    )


def test_the_canadian_city_is_evidence_for_canada(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Bus drivers strike over pay",
        "Bus drivers in London walked out on Monday, and officials in the Canadian city "
        "said talks with the union would resume on Thursday.",
    )

    assert place(enriched, "London").country_code == "CA"


def test_london_alone_is_still_the_british_capital(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Tube strike called off",
        "A strike that would have shut the Underground in London on Friday was called "
        "off after a late offer from managers.",
    )

    london = place(enriched, "London")
    assert (london.country_code, london.geonames_id) == ("GB", 2643743)


def test_sydney_nova_scotia_is_in_canada(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Steel town marks its centenary",
        "SYDNEY, Nova Scotia - Hundreds of people gathered on the waterfront in Sydney, "
        "Nova Scotia, on Saturday to mark a hundred years since the first steel was "
        "rolled at the old plant.",
    )

    sydney = place(enriched, "Sydney")
    assert (sydney.country_code, sydney.region_code, sydney.geonames_id) == (
        "CA",
        "CA-NS",
        6354908,
    )


def test_yarmouth_nova_scotia_is_never_put_in_massachusetts(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Ferry season ends early",
        "The ferry linking Yarmouth, Nova Scotia with Maine will make its last crossing "
        "of the year on Friday, two weeks earlier than planned, the operator said.",
    )

    for entity in covering(enriched, "Yarmouth"):
        assert entity.country_code in (None, "CA")
        assert entity.region_code in (None, "CA-NS")


def test_perth_scotland_is_in_the_united_kingdom(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Whisky festival returns",
        "Distillers from across the country gathered in Perth, Scotland, on Saturday "
        "for the first whisky festival held there in six years.",
    )

    perth = place(enriched, "Perth")
    assert (perth.country_code, perth.region_code) == ("GB", "GB-SCT")


# -- the article's other places outweigh population ------------------------------


def test_georgia_in_an_atlanta_election_story_is_the_us_state(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Georgia runoff draws long queues in Atlanta",
        "ATLANTA (AP) - Voters waited for hours outside polling stations in Atlanta on "
        "Tuesday as Georgia held a runoff for a seat in the US Senate. Officials in "
        "Fulton County said turnout was the highest for a runoff in a decade.",
    )

    georgia = place(enriched, "Georgia")
    assert (georgia.country_code, georgia.region_code) == ("US", "US-GA")
    assert place(enriched, "Atlanta").region_code == "US-GA"


def test_georgia_with_tbilisi_is_the_country(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Protesters fill the streets of Tbilisi",
        "Thousands of people marched through Tbilisi on Sunday night, the largest "
        "protest in Georgia since the disputed election.",
    )

    assert place(enriched, "Georgia").country_code == "GE"


# -- names the article uses for something else -----------------------------------


def test_a_footballer_is_not_a_town_in_norway(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "City held at home by Brentford",
        "Erling Haaland missed a penalty before half-time as Manchester City were held "
        "1-1 by Brentford. Haaland had equalised a minute after the break, but City "
        "could not find a winner.",
    )

    for text in ("Erling Haaland", "Haaland had"):
        assert not any(on_map(e) for e in covering(enriched, text))
    assert all(e.country_code != "NO" for e in enriched.entities)


def test_a_song_title_is_not_a_country(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Lamar sweeps the Grammys",
        'Kendrick Lamar\'s "Not Like Us" won record of the year at the ceremony in Los '
        "Angeles on Sunday, capping a year in which the diss track topped the charts.",
    )

    assert not any(on_map(e) for e in covering(enriched, "Not Like Us"))
    assert place(enriched, "Los Angeles").country_code == "US"


def test_a_party_name_gives_its_country_no_place(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Farage rally draws thousands",
        "Reform UK leader Nigel Farage told a rally in Birmingham that his party would "
        "win the next general election.",
    )

    assert not any(on_map(e) for e in covering(enriched, "Reform UK"))
    assert place(enriched, "Birmingham").country_code == "GB"


def test_sides_in_a_match_report_are_not_places(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Salah double sinks Newcastle",
        "Liverpool beat Newcastle 3-1 at Anfield on Sunday, with Mohamed Salah scoring "
        "twice in the second half.",
    )

    for text in ("Liverpool beat", "Newcastle 3-1"):
        assert not any(on_map(e) for e in covering(enriched, text))


# -- neighbourhoods and unsure places ---------------------------------------------


def test_a_chicago_neighbourhood_stays_in_chicago(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Two wounded in South Side shooting",
        "CHICAGO - Two men were wounded in a shooting in the Englewood neighbourhood on "
        "Friday night, Chicago police said. No arrests had been made.",
    )

    for entity in covering(enriched, "Englewood"):
        assert entity.region_code in (None, "US-IL")  # never Englewood, Colorado
        assert entity.country_code in (None, "US")
        if entity.latitude is not None and entity.longitude is not None:
            assert entity.latitude == pytest.approx(41.85, abs=0.3)
            assert entity.longitude == pytest.approx(-87.65, abs=0.3)


def test_an_unknown_suburb_gets_its_articles_country_and_no_point(enricher: Enricher) -> None:
    enriched = enrich(
        enricher,
        "Three held over Kibera shooting",
        "Police in Nairobi have arrested three men over the shooting of a motorcycle "
        "taxi rider in Kibera on Saturday night.",
    )

    kibera = place(enriched, "Kibera")
    assert kibera.country_code == "KE"
    assert (kibera.latitude, kibera.geonames_id) == (None, None)
