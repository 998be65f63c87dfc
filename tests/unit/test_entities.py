"""Canonical entities: the real spaCy model on the seed and small texts, and the
pure span-to-entity rules on hand-made spans."""

from __future__ import annotations

from typing import Any

import pytest

from services.enrich.entities import (
    RawSpan,
    canonical_alias,
    extract_dates,
    extract_entities,
    ner_text,
)
from services.enrich.nlp import load_model, model_id
from shared.models import ENTITY_TYPES, Entity


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load_model(None)


def run(nlp: Any, title: str, body: str) -> list[Entity]:
    return extract_entities(title, body, nlp(ner_text(title, body)).ents)


def by_name(entities: list[Entity]) -> dict[str, Entity]:
    return {e.name: e for e in entities}


def assert_offsets_slice(entities: list[Entity], title: str, body: str) -> None:
    for entity in entities:
        for m in entity.mentions:
            field = title if m.field == "title" else body
            assert field[m.start : m.end] == m.text, (entity.name, m)


def span(title: str, body: str, text: str, label: str, nth: int = 0) -> RawSpan:
    """The span of the ``nth`` occurrence of ``text`` in the NER text."""
    full = ner_text(title, body)
    start = -1
    for _ in range(nth + 1):
        start = full.index(text, start + 1)
    return RawSpan(start, start + len(text), label)


# --- the model ------------------------------------------------------------------


def test_model_loads_only_ner(nlp: Any) -> None:
    assert nlp.pipe_names == ["ner"]
    assert model_id(nlp).startswith("en_core_web_sm")
    assert model_id(nlp).endswith("-3.8.0")


def test_missing_model_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"no spaCy model found.*xx_no_such_model"):
        load_model("xx_no_such_model")


# --- the seed -------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_entities(nlp: Any, seed_text: tuple[str, str]) -> list[Entity]:
    return run(nlp, *seed_text)


def test_seed_places(seed_entities: list[Entity]) -> None:
    names = by_name(seed_entities)
    for place in ("Iraq", "Iran", "United States", "Baghdad"):
        assert names[place].type == "GPE", place
    assert names["Iraq"].country_code == "IQ"
    assert "BAGHDAD" in names["Baghdad"].surface_forms  # the dateline joins the city


def test_seed_united_states_aliases(seed_entities: list[Entity]) -> None:
    us = by_name(seed_entities)["United States"]
    forms = set(us.surface_forms)
    assert {"US", "America"} <= forms
    assert "United States" in forms  # "the United States": the article is not the name
    assert not any(m.text.lower().startswith("the ") for m in us.mentions)
    assert us.country_code == "US"
    # The US State Department is an organisation, not a mention of the country.
    assert not any("Department" in m.text for m in us.mentions)
    assert by_name(seed_entities)["US State Department"].type == "ORG"


def test_seed_people_are_joined(seed_entities: list[Entity]) -> None:
    names = by_name(seed_entities)
    trump = names["Donald Trump"]
    assert trump.type == "PERSON"
    assert "Trump" in trump.surface_forms
    assert trump.mention_count >= 5  # incl. "the Trump administration", tagged ORG by spaCy
    pompeo = names["Mike Pompeo"]
    assert pompeo.type == "PERSON"
    # "Pompeo, speaking to reporters" at a sentence start is missed by the model.
    assert "Pompeo" in pompeo.surface_forms
    assert "Abdel Mahdi" in names["Adel Abdel Mahdi"].surface_forms
    for partial in ("Trump", "Pompeo", "Abdel Mahdi"):
        assert partial not in names


def test_seed_has_no_slogans_or_junk(seed_entities: list[Entity]) -> None:
    for entity in seed_entities:
        assert "Screw" not in entity.name
        assert entity.type in ENTITY_TYPES
        assert entity.name not in {"Friday", "2003", "5,200", "State"}


def test_seed_offsets_and_order(seed_entities: list[Entity], seed_text: tuple[str, str]) -> None:
    assert_offsets_slice(seed_entities, *seed_text)
    for entity in seed_entities:
        keys = [(m.field != "title", m.start) for m in entity.mentions]
        assert keys == sorted(keys)
        assert entity.mention_count == len(entity.mentions)
        assert len(set(entity.surface_forms)) == len(entity.surface_forms)


def test_seed_salience(seed_entities: list[Entity]) -> None:
    assert seed_entities[0].name == "Iraq"
    saliences = [e.salience for e in seed_entities]
    assert all(0.0 <= s <= 1.0 for s in saliences)
    assert saliences == sorted(saliences, reverse=True)
    names = by_name(seed_entities)
    assert names["Iraq"].salience > names["Haydar Kazem"].salience


# --- small texts through the model -----------------------------------------------


def test_country_aliases(nlp: Any) -> None:
    title = "U.S. and UK agree trade deal"
    body = (
        "The U.S. and Britain signed a deal on Monday. The United Kingdom said America "
        "would cut tariffs. Officials in the USA welcomed it."
    )
    entities = run(nlp, title, body)
    names = by_name(entities)
    assert {"U.S.", "America", "USA"} <= set(names["United States"].surface_forms)
    assert {"UK", "Britain"} <= set(names["United Kingdom"].surface_forms)
    assert names["United Kingdom"].country_code == "GB"
    for alias in ("U.S.", "US", "USA", "America", "UK", "Britain"):
        assert alias not in names
    assert_offsets_slice(entities, title, body)


def test_surnames_join_full_names(nlp: Any) -> None:
    title = "Merkel meets Macron in Berlin"
    body = (
        "German Chancellor Angela Merkel met French President Emmanuel Macron on "
        "Tuesday. Merkel said the talks were good. Macron agreed. Later, Merkel left "
        "for Paris."
    )
    names = by_name(run(nlp, title, body))
    assert names["Angela Merkel"].mention_count == 4
    assert names["Emmanuel Macron"].mention_count == 3
    assert names["Angela Merkel"].mentions[0].field == "title"
    assert "Merkel" not in names and "Macron" not in names


def test_nationalities_stay_norp(nlp: Any) -> None:
    title = "Voters head to the polls"
    body = (
        "German and French voters went to the polls on Sunday. Many Germans said the "
        "economy mattered most, while French voters worried about immigration."
    )
    names = by_name(run(nlp, title, body))
    assert names["German"].type == "NORP"
    assert "Germans" in names["German"].surface_forms
    assert names["French"].type == "NORP"
    assert "Germany" not in names and "France" not in names


def test_dates_and_numbers_are_not_entities(nlp: Any) -> None:
    title = "Parliament meets on Monday"
    body = (
        "The Canadian parliament will sit on Monday, March 3, 2025, for three hours "
        "and vote on 12 amendments costing $4 million, officials in Ottawa said."
    )
    entities = run(nlp, title, body)
    names = {e.name for e in entities}
    assert "Ottawa" in names
    for text in ("Monday", "March 3, 2025", "three hours", "12", "$4 million"):
        assert not any(text in name for name in names), text


# --- the rules on hand-made spans -------------------------------------------------


def test_no_spans_no_entities() -> None:
    assert extract_entities("A title", "A body.", []) == []


def test_article_possessive_and_quotes_are_stripped() -> None:
    title, body = (
        "Talks stall",
        "Fighters of the Islamic State's branch met \u201cNATO\u201d envoys.",
    )
    spans = [
        span(title, body, "the Islamic State's", "ORG"),
        span(title, body, "\u201cNATO\u201d", "ORG"),
    ]
    names = by_name(extract_entities(title, body, spans))
    islamic = names["Islamic State"]
    assert islamic.surface_forms == ["Islamic State"]
    assert body[islamic.mentions[0].start : islamic.mentions[0].end] == "Islamic State"
    assert names["NATO"].surface_forms == ["NATO"]  # an acronym is not title-cased


def test_all_caps_dateline_is_title_cased() -> None:
    title, body = "Blast hits market", "KABUL - A blast hit a market on Friday."
    entities = extract_entities(title, body, [span(title, body, "KABUL", "GPE")])
    assert [(e.name, e.surface_forms) for e in entities] == [("Kabul", ["KABUL"])]


def test_junk_spans_are_dropped() -> None:
    title = "Report"
    body = "Some 5,200 troops, X, late arrivals and the State were counted on Friday by Reuters."
    spans = [
        span(title, body, "5,200", "ORG"),
        span(title, body, "X", "PERSON"),
        span(title, body, "late arrivals", "EVENT"),
        span(title, body, "State", "ORG"),
        span(title, body, "Friday", "DATE"),
        span(title, body, "Reuters", "ORG"),
    ]
    assert [e.name for e in extract_entities(title, body, spans)] == ["Reuters"]


def test_slogan_tagged_person_is_dropped() -> None:
    title = "Protests in Iran"
    body = '"Screw Iran!" protesters cried in Iran, where Hassan Rouhani spoke.'
    spans = [
        span(title, body, "Iran", "GPE"),
        span(title, body, "Screw Iran", "PERSON"),
        span(title, body, "Iran", "GPE", nth=2),
        span(title, body, "Hassan Rouhani", "PERSON"),
    ]
    names = by_name(extract_entities(title, body, spans))
    assert set(names) == {"Iran", "Hassan Rouhani"}
    assert names["Iran"].mention_count == 2


def test_org_tagged_surname_joins_person_and_votes_person() -> None:
    title = "Trump visits troops"
    body = "President Donald Trump met troops. The Trump administration said Trump would return."
    spans = [
        span(title, body, "Trump", "ORG"),
        span(title, body, "Donald Trump", "PERSON"),
        span(title, body, "Trump", "ORG", nth=2),
        span(title, body, "Trump", "ORG", nth=3),
    ]
    entities = extract_entities(title, body, spans)
    assert [(e.name, e.type, e.mention_count) for e in entities] == [("Donald Trump", "PERSON", 4)]
    assert entities[0].mentions[0].field == "title"


def test_missed_surname_is_found_but_not_inside_other_names() -> None:
    title = "Pompeo in Baghdad"
    body = (
        "Mike Pompeo arrived. Pompeo spoke. Later he visited Pompeo Tower with Anna Pompeo staff."
    )
    spans = [
        span(title, body, "Baghdad", "GPE"),
        span(title, body, "Mike Pompeo", "PERSON"),
    ]
    names = by_name(extract_entities(title, body, spans))
    pompeo = names["Mike Pompeo"]
    # The title and "Pompeo spoke." join; "Pompeo Tower" and "Anna Pompeo" do not.
    assert pompeo.mention_count == 3
    assert [m.field for m in pompeo.mentions] == ["title", "body", "body"]
    assert_offsets_slice([pompeo], title, body)


def test_shared_surname_goes_to_the_nearest_full_name() -> None:
    title = "Two Bushes"
    body = "George Bush spoke first. Bush was brief. Then Jeb Bush spoke. Bush was long."
    spans = [
        span(title, body, "George Bush", "PERSON"),
        span(title, body, "Bush", "PERSON", nth=1),
        span(title, body, "Jeb Bush", "PERSON"),
        span(title, body, "Bush", "PERSON", nth=3),
    ]
    names = by_name(extract_entities(title, body, spans))
    assert names["George Bush"].mention_count == 2
    assert names["Jeb Bush"].mention_count == 2
    assert "Bush" not in names


def test_qualified_org_and_corporate_suffix_join() -> None:
    title = "Apple and the State Department"
    body = "Apple Inc. said the US State Department had called. Apple declined to comment."
    spans = [
        span(title, body, "Apple", "ORG"),
        span(title, body, "State Department", "ORG"),
        span(title, body, "Apple Inc.", "ORG"),
        span(title, body, "US", "GPE"),
        span(title, body, "US State Department", "ORG"),
        span(title, body, "Apple", "ORG", nth=2),
    ]
    names = by_name(extract_entities(title, body, spans))
    assert names["Apple"].mention_count == 3
    assert names["US State Department"].mention_count == 2
    assert "State Department" not in names


def test_span_across_title_and_body_is_split() -> None:
    title, body = "Apple unveils new iPhone", "Apple Inc. on Tuesday unveiled it."
    full = ner_text(title, body)
    start = full.index("iPhone")
    spans = [RawSpan(start, full.index(" on Tuesday"), "ORG")]
    entities = extract_entities(title, body, spans)
    assert sorted((e.name, e.mentions[0].field) for e in entities) == [
        ("Apple Inc.", "body"),
        ("iPhone", "title"),
    ]
    assert_offsets_slice(entities, title, body)


def test_canonical_alias_is_whole_span_only() -> None:
    assert canonical_alias("U.S.") == "United States"
    assert canonical_alias("united states of america") == "United States"
    assert canonical_alias("E.U.") == "European Union"
    assert canonical_alias("Us") is None  # only the acronym, not the pronoun
    assert canonical_alias("US State Department") is None


# --- post-processing of the model's spans -----------------------------------------


class FakePlaces:
    """A two-entry gazetteer for the rules that consult one."""

    def place_kind(self, name: str) -> str | None:
        return {"belgrade": "city", "japan": "country"}.get(name.casefold())


def test_scores_and_counts_are_trimmed_from_names() -> None:
    title, body = "Scores", "G. Kersey 63 and 64 Bob Estes led; Mexico 2-0 won."
    spans = [
        span(title, body, "G. Kersey 63", "PERSON"),
        span(title, body, "64 Bob Estes", "PERSON"),
        span(title, body, "Mexico 2-0", "GPE"),
    ]
    found = {m.text for e in extract_entities(title, body, spans) for m in e.mentions}
    assert found == {"G. Kersey", "Bob Estes", "Mexico"}


def test_a_span_holding_two_names_is_cut() -> None:
    title = "Line-ups"
    body = "Lithuania - Danius Gleveckas scored.\nScott Draper (Australia) won."
    spans = [
        span(title, body, "Lithuania - Danius Gleveckas", "PERSON"),
        span(title, body, "Scott Draper (Australia", "PERSON"),
    ]
    names = {m.text for e in extract_entities(title, body, spans) for m in e.mentions}
    assert {"Lithuania", "Danius Gleveckas", "Scott Draper", "Australia"} <= names


def test_country_names_become_places_with_a_gazetteer() -> None:
    title, body = "Japan win", "Japan beat Syria in the final."
    spans = [span(title, body, "Japan", "ORG", nth=1)]
    without = by_name(extract_entities(title, body, spans))
    assert without["Japan"].type == "ORG"
    with_places = by_name(extract_entities(title, body, spans, FakePlaces()))
    assert with_places["Japan"].type == "GPE"


def test_dateline_missed_by_the_model_is_a_place() -> None:
    title, body = "Talks resume", "BELGRADE 1996-08-22\nServian officials met on Monday."
    entities = extract_entities(title, body, [], FakePlaces())
    assert [(e.name, e.type, e.surface_forms) for e in entities] == [
        ("Belgrade", "GPE", ["BELGRADE"])
    ]
    assert extract_entities(title, body, []) == []  # no gazetteer, no guess


def test_names_the_model_missed_elsewhere_are_added() -> None:
    title = "LEBED SAYS TALKS GO ON"
    body = "Alexander Lebed met rebels. Lebed said the talks would go on. Later Lebed left."
    spans = [span(title, body, "Alexander Lebed", "PERSON"), span(title, body, "Lebed", "PERSON")]
    [lebed] = extract_entities(title, body, spans)
    assert lebed.name == "Alexander Lebed"
    assert lebed.mention_count == 4  # the headline in capitals and the missed "Lebed"
    assert lebed.mentions[0].field == "title" and lebed.mentions[0].text == "LEBED"
    assert_offsets_slice([lebed], title, body)


def test_acronym_in_parentheses_joins_its_expansion() -> None:
    title = "Kurds meet"
    body = "The Kurdistan Democratic Party (KDP) met on Monday. The KDP said it would return."
    spans = [span(title, body, "Kurdistan Democratic Party", "ORG")]
    [kdp] = extract_entities(title, body, spans)
    assert kdp.name == "Kurdistan Democratic Party"
    assert set(kdp.surface_forms) == {"Kurdistan Democratic Party", "KDP"}
    assert kdp.mention_count == 3


@pytest.mark.parametrize(
    ("written", "joined"),
    [("( KDP )", True), ("(\tKDP)", True), ("(KDP-I)", False), ("(KDPs)", False), ("(PDK)", False)],
)
def test_only_the_acronym_itself_in_parentheses_joins(written: str, joined: bool) -> None:
    title = "Kurds meet"
    body = f"The Kurdistan Democratic Party {written} met on Monday."
    spans = [span(title, body, "Kurdistan Democratic Party", "ORG")]
    [kdp] = extract_entities(title, body, spans)
    assert ("KDP" in kdp.surface_forms) is joined


def test_dates_are_kept_apart() -> None:
    title, body = "Vote on Monday", "Parliament votes on March 3, 2025 at 10 a.m."
    spans = [
        span(title, body, "Monday", "DATE"),
        span(title, body, "March 3, 2025", "DATE"),
        span(title, body, "10 a.m.", "TIME"),
        span(title, body, "Parliament", "ORG"),
    ]
    dates = extract_dates(title, body, spans)
    assert [(d.field, d.text) for d in dates] == [
        ("title", "Monday"),
        ("body", "March 3, 2025"),
        ("body", "10 a.m."),
    ]
    assert [e.name for e in extract_entities(title, body, spans)] == ["Parliament"]


# --- sports pages, tables and name cues ----------------------------------------------


class SportsPlaces:
    """A small gazetteer for the rules on results lines."""

    def place_kind(self, name: str) -> str | None:
        kinds = {
            "japan": "country",
            "syria": "country",
            "germany": "country",
            "detroit": "city",
            "kansas city": "city",
            "mexico city": "city",
            "england": "region",
            "ina": "city",
            "slovenia": "country",
            "hove": "city",
        }
        return kinds.get(name.casefold())


def types(entities: list[Entity]) -> set[tuple[str, str]]:
    return {(e.name, e.type) for e in entities}


def test_names_in_score_lines_and_fixtures_are_teams() -> None:
    title = "Soccer results"
    body = (
        "Huddersfield 1 Crystal Palace 1\n"
        "Southend 4 0 1 3 2 10 1\n"
        "Postponed: Walsall v Wrexham, Morton v Falkirk\n"
        "Japan 2 Syria 1\n"
        "England 326 and 74-0"
    )
    spans = [
        span(title, body, "Huddersfield", "GPE"),  # a city to the model
        span(title, body, "Walsall", "PERSON"),
        span(title, body, "Japan", "GPE"),
    ]
    entities = extract_entities(title, body, spans, SportsPlaces())
    assert types(entities) == {
        ("Huddersfield", "ORG"),
        ("Crystal Palace", "ORG"),  # missed by the model
        ("Southend", "ORG"),
        ("Walsall", "ORG"),
        ("Wrexham", "ORG"),
        ("Morton", "ORG"),
        ("Falkirk", "ORG"),
        ("Japan", "GPE"),  # national sides stay places
        ("Syria", "GPE"),
        ("England", "GPE"),
    }
    assert_offsets_slice(entities, title, body)


def test_players_in_results_lines_stay_people() -> None:
    title = "Scoreboard"
    body = (
        "Bob Estes 64 70 68\n"
        "Bowling: Gough 8-0-39-3, Mullally 6-0-30-1\n"
        "Yorkshire 290 (R. Kettleborough 108), Essex 372"
    )
    spans = [
        span(title, body, "Bob Estes", "PERSON"),
        span(title, body, "Gough", "PERSON"),
        span(title, body, "Mullally", "PERSON"),
        span(title, body, "R. Kettleborough", "PERSON"),
        span(title, body, "Yorkshire", "PERSON"),
    ]
    assert types(extract_entities(title, body, spans, SportsPlaces())) == {
        ("Bob Estes", "PERSON"),
        ("Gough", "PERSON"),
        ("Mullally", "PERSON"),
        ("R. Kettleborough", "PERSON"),
        ("Yorkshire", "ORG"),
        ("Essex", "ORG"),
    }


def test_lines_of_accounts_do_not_make_teams() -> None:
    title, body = "Results", "Sales 148.29 vs 133.82\nNet profit 12.50 11.20\nExports 14,494 14,153"
    assert extract_entities(title, body, [], SportsPlaces()) == []


def test_team_and_venue_of_the_same_name_are_two_entities() -> None:
    title = "Baseball results"
    body = "DETROIT 1996-08-30\nDetroit 4 Kansas City 1\nKansas City at Detroit"
    spans = [
        span(title, body, "DETROIT", "GPE"),
        span(title, body, "Detroit", "GPE"),
        span(title, body, "Kansas City", "GPE"),
        span(title, body, "Detroit", "GPE", nth=1),
    ]
    entities = extract_entities(title, body, spans, SportsPlaces())
    found = sorted((e.name, e.type, e.surface_forms) for e in entities)
    assert found == [
        ("Detroit", "GPE", ["DETROIT", "Detroit"]),  # the dateline and the venue
        ("Detroit", "ORG", ["Detroit"]),  # the team in the score line
        ("Kansas City", "ORG", ["Kansas City"]),
    ]
    assert_offsets_slice(entities, title, body)


def test_competitors_and_line_ups_are_people() -> None:
    title = "Athletics"
    body = (
        "1. Tanja Damaske (Germany) 66.60 metres\n"
        "Japan - 1 - Kenji Sato, 2 - Taro Ito (14 - Ken Mori), 5 - Jiro Abe"
    )
    spans = [
        span(title, body, "Tanja Damaske", "ORG"),
        span(title, body, "Germany", "GPE"),
        span(title, body, "Kenji Sato", "PERSON"),
        span(title, body, "Ito", "ORG"),  # only part of the name
    ]
    entities = extract_entities(title, body, spans, SportsPlaces())
    people = {e.name for e in entities if e.type == "PERSON"}
    assert people == {"Tanja Damaske", "Kenji Sato", "Taro Ito", "Ken Mori", "Jiro Abe"}
    assert "Ito" not in {e.name for e in entities}
    assert_offsets_slice(entities, title, body)


def test_sports_and_table_headings_are_not_names() -> None:
    title, body = "BASEBALL - RESULTS", "Women's 200 metres\nAttendance: 6,500"
    spans = [
        span(title, body, "BASEBALL", "ORG"),
        span(title, body, "Women's", "ORG"),
        span(title, body, "Attendance", "ORG"),
    ]
    assert extract_entities(title, body, spans) == []


def test_organisation_words_in_a_name() -> None:
    title = "Roundup"
    body = (
        "The Iraqi News Agency said Manchester United and Manchester City met St Pauli "
        "in Mexico City, where the Bank of Japan has an office."
    )
    spans = [
        span(title, body, "Iraqi News Agency", "PERSON"),
        span(title, body, "Manchester United", "PERSON"),
        span(title, body, "Manchester City", "PERSON"),
        span(title, body, "St Pauli", "PERSON"),
        span(title, body, "Mexico City", "GPE"),
        span(title, body, "Bank of Japan", "GPE"),
    ]
    assert types(extract_entities(title, body, spans)) == {
        ("Iraqi News Agency", "ORG"),
        ("Manchester United", "ORG"),
        ("Manchester City", "ORG"),
        ("St Pauli", "ORG"),
        ("Mexico City", "GPE"),  # "City" alone does not overrule a place
        ("Bank of Japan", "ORG"),
    }


def test_word_before_a_name_decides_its_type() -> None:
    title = "Deal"
    body = (
        "Mineral water firm Multico bid, State Department spokesman Glyn Davies said. "
        "Multico declined to comment."
    )
    spans = [
        span(title, body, "Multico", "PERSON"),
        span(title, body, "Glyn Davies", "ORG"),
        span(title, body, "Multico", "PERSON", nth=1),
    ]
    names = by_name(extract_entities(title, body, spans))
    assert (names["Multico"].type, names["Multico"].mention_count) == ("ORG", 2)
    assert names["Glyn Davies"].type == "PERSON"


def test_family_name_first_joins_the_full_name() -> None:
    title = "Dissident held"
    body = "Police detained dissident Wang Donghai. Wang's family was not told."
    spans = [span(title, body, "Wang Donghai", "PERSON"), span(title, body, "Wang", "ORG", nth=1)]
    entities = extract_entities(title, body, spans)
    assert [(e.name, e.type, e.mention_count) for e in entities] == [("Wang Donghai", "PERSON", 2)]


def test_a_span_across_a_fixture_is_cut() -> None:
    title, body = "Fixtures", "Saturday: Montrose v Ross County"
    spans = [span(title, body, "Montrose v Ross County", "ORG")]
    assert types(extract_entities(title, body, spans)) == {
        ("Montrose", "ORG"),
        ("Ross County", "ORG"),
    }


def test_a_team_in_a_table_is_a_team_in_the_prose_too() -> None:
    title = "Cricket"
    body = "Surrey thrashed Kent on Saturday.\nSurrey 250 and 100-2, Kent 300"
    spans = [
        span(title, body, "Surrey", "PERSON"),
        span(title, body, "Kent", "PERSON"),
        span(title, body, "Surrey", "PERSON", nth=1),
        span(title, body, "Kent", "GPE", nth=1),
    ]
    entities = extract_entities(title, body, spans, SportsPlaces())
    assert types(entities) == {("Surrey", "ORG"), ("Kent", "ORG")}
    assert by_name(entities)["Surrey"].mention_count == 2


def test_results_table_through_the_model(nlp: Any) -> None:
    title = "SOCCER - ENGLISH LEAGUE RESULTS"
    body = (
        "LONDON 1996-08-31\n"
        "Results of English league matches on Saturday:\n"
        "Huddersfield 1 Crystal Palace 1\n"
        "Doncaster 3 Darlington 2\n"
        "Notts County 0 York 1"
    )
    names = by_name(extract_entities(title, body, nlp(ner_text(title, body)).ents, SportsPlaces()))
    for team in ("Huddersfield", "Crystal Palace", "Doncaster", "Darlington", "Notts County"):
        assert names[team].type == "ORG", team


def test_result_line_teams_the_model_read_as_people() -> None:
    title, body = "Dutch league", "Feyenoord Rotterdam 3 Volendam 0\nBob Estes 64 70 68"
    spans = [
        span(title, body, "Feyenoord Rotterdam", "PERSON"),
        span(title, body, "Bob Estes", "PERSON"),
    ]
    assert types(extract_entities(title, body, spans, SportsPlaces())) == {
        ("Feyenoord Rotterdam", "ORG"),  # one game's result: two teams
        ("Volendam", "ORG"),
        ("Bob Estes", "PERSON"),  # a golfer's rounds
    }


def test_spans_holding_a_score_or_a_list_are_cut() -> None:
    title = "Roundup"
    body = "Millwall 2 Burnley won. The plane landed at Larnaca, Cyprus, said Goldman, Sachs & Co."
    spans = [
        span(title, body, "Millwall 2 Burnley", "ORG"),
        span(title, body, "Larnaca, Cyprus", "GPE"),
        span(title, body, "Goldman, Sachs & Co.", "ORG"),
    ]
    assert types(extract_entities(title, body, spans)) == {
        ("Millwall", "ORG"),
        ("Burnley", "ORG"),
        ("Larnaca", "GPE"),
        ("Cyprus", "GPE"),
        ("Goldman, Sachs & Co.", "ORG"),  # a comma does not cut an organisation
    }


def test_unknown_city_is_a_club_and_an_acronym_is_not_a_country() -> None:
    title = "Roundup"
    body = "Norwich City signed a striker in Mexico City, the Iraqi News Agency (INA) said."
    spans = [
        span(title, body, "Norwich City", "GPE"),
        span(title, body, "Mexico City", "GPE"),
        span(title, body, "Iraqi News Agency", "ORG"),
    ]
    assert types(extract_entities(title, body, spans, SportsPlaces())) == {
        ("Norwich City", "ORG"),  # the gazetteer knows no such place
        ("Mexico City", "GPE"),
        ("Iraqi News Agency", "ORG"),  # "(INA)" is its acronym, not a competitor's country
    }


def test_company_named_by_its_first_word_joins_it() -> None:
    title = "Magna buys parts maker"
    body = "Magna International Inc said it would buy Douglas. Magna's shares rose."
    spans = [
        span(title, body, "Magna", "PERSON"),
        span(title, body, "Magna International Inc", "ORG"),
        span(title, body, "Magna", "PERSON", nth=2),
    ]
    entities = extract_entities(title, body, spans, SportsPlaces())
    assert [(e.name, e.type, e.mention_count) for e in entities] == [
        ("Magna International Inc", "ORG", 3)
    ]


def test_scoreboard_ground_and_competitor_country_are_places() -> None:
    title = "Cricket and athletics"
    body = "At Hove: Sussex 363 and 144, Lancashire 218\n4. Brigita Bokovec (Slovenia) 12.92"
    spans = [span(title, body, "Sussex", "PERSON")]
    assert types(extract_entities(title, body, spans, SportsPlaces())) == {
        ("Hove", "GPE"),
        ("Sussex", "ORG"),
        ("Lancashire", "ORG"),
        ("Brigita Bokovec", "PERSON"),
        ("Slovenia", "GPE"),
    }


def test_competitions_are_events_not_organisations() -> None:
    title = "Soccer"
    body = "The club, out of the UEFA Cup, won the Singer World Series and the U.S. Open."
    spans = [
        span(title, body, "UEFA Cup", "ORG"),
        span(title, body, "Singer World Series", "ORG"),
        span(title, body, "U.S. Open", "GPE"),
    ]
    assert types(extract_entities(title, body, spans)) == {
        ("UEFA Cup", "EVENT"),
        ("Singer World Series", "EVENT"),
        ("U.S. Open", "EVENT"),
    }


def test_surname_read_as_a_place_is_the_person() -> None:
    title = "Lebed, Chechens sign deal"
    body = "Alexander Lebed met rebel leaders. Lebed said the talks went well in Kansas City."
    spans = [
        span(title, body, "Lebed", "GPE"),
        span(title, body, "Alexander Lebed", "PERSON"),
        span(title, body, "Lebed", "GPE", nth=2),
        span(title, body, "Kansas City", "GPE"),
    ]
    entities = extract_entities(title, body, spans, SportsPlaces())
    assert [(e.name, e.type, e.mention_count) for e in entities if e.type == "PERSON"] == [
        ("Alexander Lebed", "PERSON", 3)
    ]
    assert by_name(entities)["Kansas City"].type == "GPE"
