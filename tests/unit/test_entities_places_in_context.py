"""Places the model typed as people or organisations, placed by the words around them.

The model reads "near Ravenna", "Rio Verde, Goias" and a "ROTTERDAM, Oct 9 -"
dateline as a person or a company often enough to cost a third of the place
mentions of the modern set their country. The spans here stand for the model's
reading, so each case tests the rule and not the model of the day.
"""

from __future__ import annotations

import pytest

from services.enrich.entities import PASS_NAMES, RawSpan, extract, ner_text
from services.enrich.geo import Gazetteer
from shared.models import Entity


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.default()


def read(
    gazetteer: Gazetteer, title: str, body: str, spans: list[tuple[str, str, int]]
) -> dict[str, Entity]:
    """Entities, located, from ``(text, label, nth occurrence)`` spans."""
    full = ner_text(title, body)
    raw = []
    for text, label, nth in spans:
        start = -1
        for _ in range(nth + 1):
            start = full.index(text, start + 1)
        raw.append(RawSpan(start, start + len(text), label))
    found = extract(title, body, raw, gazetteer)
    assert found.degraded == []
    return {e.name: e for e in gazetteer.resolve(found.entities, title, body)}


def test_the_pass_is_named() -> None:
    assert "places_in_their_context" in PASS_NAMES


def test_a_town_near_which_something_happened_is_a_place(gazetteer: Gazetteer) -> None:
    body = "Two people died in Traversara, near Ravenna, after the river burst its banks."
    found = read(gazetteer, "Floods in Italy", body, [("Ravenna", "PERSON", 0)])
    assert found["Ravenna"].type == "GPE"
    assert found["Ravenna"].country_code == "IT"


def test_a_town_before_its_region_is_a_place(gazetteer: Gazetteer) -> None:
    body = "SOYBEANS\nRio Verde, Goias                 127.40  (+0.60)\n"
    found = read(gazetteer, "Brazil cash prices", body, [("Rio Verde", "PERSON", 0)])
    assert found["Rio Verde"].type == "GPE"
    assert found["Rio Verde"].country_code == "BR"


def test_a_dateline_in_capitals_is_a_place(gazetteer: Gazetteer) -> None:
    title = "Lashers strike halts container traffic"
    body = "ROTTERDAM, Oct 9 - Container handling at the port stopped on Thursday."
    found = read(gazetteer, title, body, [("ROTTERDAM", "ORG", 0)])
    assert found["Rotterdam"].type == "GPE"
    assert found["Rotterdam"].country_code == "NL"


@pytest.mark.parametrize(
    ("body", "name", "label"),
    [
        # A possessive is a person's, even after "in".
        ("The row in Kennedy's cabinet deepened on Monday.", "Kennedy", "PERSON"),
        # Part of a longer name: a team.
        ("The crowd in Perth Scorchers colours sang.", "Perth", "ORG"),
        # Said nowhere to be a place.
        ("Swindon said the plant would close.", "Swindon", "ORG"),
    ],
)
def test_a_name_the_text_does_not_place_keeps_its_kind(
    gazetteer: Gazetteer, body: str, name: str, label: str
) -> None:
    found = read(gazetteer, "News", body, [(name, label, 0)])
    assert found[name].type == label
    assert found[name].latitude is None


def test_a_surname_of_a_person_in_the_article_stays_a_person(gazetteer: Gazetteer) -> None:
    body = "Lewis Hamilton finished third. Fans in Hamilton cheered him on."
    spans = [("Lewis Hamilton", "PERSON", 0), ("Hamilton", "PERSON", 1)]
    found = read(gazetteer, "Grand Prix", body, spans)
    assert "Hamilton" not in found
    assert found["Lewis Hamilton"].type == "PERSON"


def test_a_port_of_and_a_town_in_a_list_are_places(gazetteer: Gazetteer) -> None:
    body = (
        "Exports stopped at the Black Sea port of Novorossiysk. Local news for "
        "Townsville, Cairns, Rockhampton and Mackay will be produced in Brisbane."
    )
    spans = [
        ("Novorossiysk", "ORG", 0),
        ("Townsville", "GPE", 0),
        ("Cairns", "PERSON", 0),
        ("Rockhampton", "PERSON", 0),
        ("Brisbane", "GPE", 0),
    ]
    found = read(gazetteer, "Roundup", body, spans)
    assert found["Novorossiysk"].country_code == "RU"
    assert found["Cairns"].type == found["Rockhampton"].type == "GPE"
    assert found["Cairns"].country_code == "AU"


def test_a_person_of_a_place_stays_a_person(gazetteer: Gazetteer) -> None:
    body = "The portrait of Kennedy hangs in the hall; the friends of Hamilton met."
    found = read(gazetteer, "News", body, [("Kennedy", "PERSON", 0), ("Hamilton", "PERSON", 0)])
    assert found["Kennedy"].type == found["Hamilton"].type == "PERSON"


@pytest.mark.parametrize(
    ("body", "name", "label", "country"),
    [
        ("The maker will close its Swindon plant next year.", "Swindon", "ORG", "GB"),
        ("Drones hit the Saratov refinery on Sunday.", "Saratov", "PERSON", "RU"),
    ],
)
def test_a_town_before_a_plant_or_refinery_is_a_place(
    gazetteer: Gazetteer, body: str, name: str, label: str, country: str
) -> None:
    found = read(gazetteer, "Industry", body, [(name, label, 0)])
    assert found[name].type == "GPE"
    assert found[name].country_code == country


def test_a_club_before_its_fans_stays_a_club(gazetteer: Gazetteer) -> None:
    found = read(gazetteer, "Sport", "Chelsea fans sang all night.", [("Chelsea", "ORG", 0)])
    assert found["Chelsea"].type == "ORG"
