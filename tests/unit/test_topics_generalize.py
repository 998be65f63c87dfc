"""Topics that hold beyond the corpus the lexicon was tuned on: the failures of issue 10.

Every text here is written for this test (none is copied from a corpus). Each test
asserts what a subscriber would see: the top-level topics assigned at the default
threshold, and which one comes first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.enrich.topics import TopicTaxonomy, _surface_words, stems
from shared.models import Topic
from shared.settings import Settings

THRESHOLD = Settings.model_fields["topic_threshold"].default
SAMPLE = Path(__file__).resolve().parent / "data" / "topics_sample.jsonl"

SPORT = "sport"
ECONOMY = "economy-business-and-finance"
LABOUR = "labour"
POLITICS = "politics-and-government"
CRIME = "crime-law-and-justice"
CONFLICT = "conflict-war-and-peace"
DISASTER = "disaster-accident-and-emergency-incident"
EDUCATION = "education"
ENVIRONMENT = "environment"
WEATHER = "weather"
ARTS = "arts-culture-entertainment-and-media"
HEALTH = "health"
TECH = "science-and-technology"
OPENAI = (
    "OpenAI signs chip deal with Broadcom",
    "OpenAI has agreed to buy custom processors from Broadcom in a multibillion-dollar "
    "agreement, the latest move by the ChatGPT maker to secure computing power as rivals "
    "race to build larger data centres. The two companies said the first racks would ship"
    " next year. Broadcom shares rose 9% in early trading after the announcement, adding "
    "billions to the chipmaker's market value.",
)
DOCKWORKERS = (
    "US dockworkers strike at East and Gulf Coast ports",
    "Tens of thousands of dockworkers walked off the job at ports from Maine to Texas on "
    "Tuesday after talks on a new contract broke down. The union is seeking higher wages "
    "and a ban on automated cranes, while the port operators say their offer of a 50% "
    "raise over six years is fair. Retailers warned that a long stoppage would delay "
    "shipments and push up prices before the holidays.",
)
GEORGIA = (
    "Georgia election officials certify results",
    "Election officials in Georgia certified the results of last week's vote on Friday, "
    "signing off on the count after a hand audit in several counties found no significant"
    " errors. The secretary of state said turnout was the highest for a midterm election "
    "in the state's history.",
)
RANSOMWARE = (
    "Ransomware attack hits hospitals across the region",
    "A ransomware attack has forced three hospitals to cancel operations and send "
    "ambulances elsewhere, after hackers encrypted patient records and demanded a payment"
    " in bitcoin. Police and the national cyber security agency are investigating the "
    "criminal gang behind the attack, which also knocked out appointment systems at "
    "dozens of clinics.",
)
SHOOTING = (
    "Two men wounded in street shooting in Leeds",
    "Two men were wounded when a gunman opened fire on a street in Leeds late on "
    "Saturday, police said. Both were taken to hospital with injuries that are not "
    "thought to be life-threatening. Detectives have arrested a 24-year-old man on "
    "suspicion of attempted murder and appealed for witnesses and doorbell camera "
    "footage.",
)
WAREHOUSE = (
    "Firefighters battle huge warehouse blaze in Manchester",
    "More than 60 firefighters battled a blaze at a warehouse in east Manchester through "
    "the night, sending a plume of black smoke over the city. Residents were told to keep"
    " windows and doors closed. The fire service said nobody was hurt and the cause of "
    "the fire was being investigated.",
)
STUDENT = (
    "Man found guilty of murdering student in Cardiff",
    "A 31-year-old man has been found guilty of murdering a university student who was "
    "stabbed as she walked home from a night out. The jury at Cardiff Crown Court took "
    "four hours to reach its verdict. The judge said he would be sentenced next month and"
    " warned him he faced a life term.",
)
CHANCELLOR = (
    "New German chancellor sworn in after coalition deal",
    "Germany's new chancellor was sworn in on Tuesday after the Bundestag backed him by a"
    " clear majority, ending months of coalition talks. He promised to strengthen the "
    "country's defences and to speed up decisions in Berlin, and named his cabinet "
    "ministers in the afternoon.",
)
FACTORY = (
    "Carmaker to cut 400 jobs at Midlands factory",
    "A car parts plant in the Midlands will cut 400 jobs as it moves production abroad, "
    "the company said on Thursday. The union called the decision a betrayal of workers "
    "who had accepted a pay freeze, and said it would ballot members on industrial "
    "action. Shares in the firm rose 3%.",
)
FLOODS = (
    "Deadly floods after days of torrential rain in Spain",
    "At least twelve people have died in flash floods in eastern Spain after days of "
    "torrential rain turned streets into rivers. Emergency services rescued hundreds of "
    "residents from rooftops and cars, and the national weather agency kept its highest "
    "warning in place as more storms were forecast for the weekend.",
)
LIVERPOOL = (
    "Liverpool beat Everton 2-0 at Anfield on Saturday.",
    "",
)
SWIFT = (
    "Taylor Swift plays record eighth Wembley show",
    "Taylor Swift played to a sold-out crowd of 90,000 at Wembley Stadium on Friday "
    "night, the eighth London date of her tour and a record for any artist at the venue. "
    "The three-hour set included songs from every album of her career, and fans queued "
    "from dawn for merchandise.",
)
NETFLIX = (
    "Netflix sets release dates for final Stranger Things season",
    "Netflix will release the final season of Stranger Things in three parts, the first "
    "on 26 November, the streaming service said. The series, which made stars of its "
    "young cast, ends after nearly a decade. The last episode will also be shown in "
    "cinemas on New Year's Eve.",
)

# Short wire items whose words are all ambiguous ones (context terms): several that
# agree, with the model's support, are evidence enough.
FIXTURES = (
    "Round 9 fixtures: Wanderers host Phoenix",
    "Saturday: Wanderers v Phoenix, CommBank Stadium, 7.35pm; Jets v Mariners, McDonald "
    "Jones Stadium, 5pm. Sunday: Roar v Glory, Suncorp Stadium, 4pm. The league leaders "
    "have a bye.",
)
CHIP_RESULTS = (
    "Chipmaker's sales jump as revenue beats forecasts",
    "The company said revenue rose 30% in the quarter on strong sales of its processors.",
)


@pytest.fixture(scope="module")
def taxonomy() -> TopicTaxonomy:
    return TopicTaxonomy.load()


def top_level(taxonomy: TopicTaxonomy, text: tuple[str, str]) -> list[Topic]:
    return [t for t in taxonomy.classify(*text, THRESHOLD) if t.level == 1]


def slugs(taxonomy: TopicTaxonomy, text: tuple[str, str]) -> list[str]:
    return [t.slug for t in top_level(taxonomy, text)]


def test_seed_article_is_not_sport(taxonomy: TopicTaxonomy, seed_text: tuple[str, str]) -> None:
    found = slugs(taxonomy, seed_text)
    assert SPORT not in found
    assert set(found[:2]) == {CONFLICT, POLITICS}
    # Nor a narrower sport topic from "team", "signing", "training" or "officials".
    assert not [t for t in taxonomy.classify(*seed_text, 0.05) if t.slug.startswith("sport")]


def test_chip_deal_is_business_not_sport(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, OPENAI)
    assert found[0] == ECONOMY
    assert SPORT not in found


def test_dockworkers_strike_is_labour_and_economy(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, DOCKWORKERS)
    assert found[0] == LABOUR
    assert ECONOMY in found
    assert SPORT not in found


def test_election_officials_are_politics_not_sport(taxonomy: TopicTaxonomy) -> None:
    assert slugs(taxonomy, GEORGIA) == [POLITICS]


def test_ransomware_on_hospitals_is_crime_not_war(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, RANSOMWARE)
    assert found[0] == CRIME
    assert set(found) <= {CRIME, HEALTH, TECH}
    assert CONFLICT not in found


def test_street_shooting_is_crime_not_war(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, SHOOTING)
    assert found == [CRIME]
    assert "war-victims" not in [t.slug for t in taxonomy.classify(*SHOOTING, THRESHOLD)]


def test_warehouse_blaze_is_disaster_not_war(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, WAREHOUSE)
    assert found == [DISASTER]
    assert "armed-conflict" not in [t.slug for t in taxonomy.classify(*WAREHOUSE, THRESHOLD)]


def test_murder_trial_of_a_student_is_crime_not_education(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, STUDENT)
    assert found == [CRIME]


def test_german_chancellor_is_politics_not_economy(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, CHANCELLOR)
    assert found == [POLITICS]


def test_factory_job_cuts_are_economy_and_labour(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, FACTORY)
    assert set(found) == {ECONOMY, LABOUR}
    assert ENVIRONMENT not in found  # "plant" is not a green plant here


def test_floods_after_torrential_rain_are_weather_and_disaster(taxonomy: TopicTaxonomy) -> None:
    assert set(slugs(taxonomy, FLOODS)) == {WEATHER, DISASTER}


def test_one_line_match_result_is_sport(taxonomy: TopicTaxonomy) -> None:
    found = top_level(taxonomy, LIVERPOOL)
    assert [t.slug for t in found] == [SPORT]
    assert "anfield" in found[0].terms


def test_stadium_concert_is_arts_not_sport(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, SWIFT)
    assert found[0] == ARTS
    assert SPORT not in found
    assert "sport-venue" not in [t.slug for t in taxonomy.classify(*SWIFT, THRESHOLD)]


def test_streaming_series_is_arts_above_sport(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, NETFLIX)
    assert found[0] == ARTS
    assert SPORT not in found


def test_short_fixture_list_is_sport(taxonomy: TopicTaxonomy) -> None:
    found = top_level(taxonomy, FIXTURES)
    assert [t.slug for t in found] == [SPORT]
    assert {"stadium", "league"} <= set(found[0].terms)


def test_short_results_item_is_economy_first(taxonomy: TopicTaxonomy) -> None:
    found = slugs(taxonomy, CHIP_RESULTS)
    assert found[0] == ECONOMY


def test_one_ambiguous_word_is_still_not_enough(taxonomy: TopicTaxonomy) -> None:
    # One context term ("stadium") with the model's support does not make sport.
    text = ("Council approves new stadium car park", "The council approved the plans on Monday.")
    assert SPORT not in slugs(taxonomy, text)


def test_every_topic_gives_its_terms_as_reason(taxonomy: TopicTaxonomy) -> None:
    """Each assigned topic names words of the article (lexicon terms, or the words the
    model read) as its reason."""
    for text in (OPENAI, DOCKWORKERS, GEORGIA, FACTORY, FLOODS, SWIFT, LIVERPOOL):
        article = " ".join(stems(" ".join(text)))
        for topic in top_level(taxonomy, text):
            assert topic.terms, topic.slug
            for term in topic.terms:
                assert f" {' '.join(stems(term))} " in f" {article} ", (topic.slug, term)


def test_narrower_topics_only_with_their_parent(taxonomy: TopicTaxonomy) -> None:
    for text in (OPENAI, DOCKWORKERS, SHOOTING, FLOODS, SWIFT, NETFLIX, LIVERPOOL):
        found = taxonomy.classify(*text, 0.05)
        parents = {t.qcode for t in found if t.level == 1}
        assert all(t.broader in parents for t in found if t.level != 1)


def test_packaged_sample_accuracy_stays_above_the_measured_floor(
    taxonomy: TopicTaxonomy,
) -> None:
    """28 hand-written articles of every kind (tests/unit/data/topics_sample.jsonl).

    Measured when the model and lexicon were built: best-topic accuracy 1.00,
    exact-set match 0.857 (24/28), no article without a topic. The floors leave
    room for two more misses each, no more.
    """
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 28
    right = exact = empty = 0
    for row in rows:
        found = slugs(taxonomy, (row["title"], row["body"]))
        right += bool(found) and found[0] == row["label"]
        exact += set(found) == set(row["topics"])
        empty += not found
    assert right / len(rows) >= 26 / 28
    assert exact / len(rows) >= 22 / 28
    assert empty == 0


def test_bookings_are_not_books() -> None:
    # "book" is an arts term; "hotels reported bookings up" is not about books.
    assert stems("bookings booked") == ["booking", "booked"]
    assert stems("books") == stems("book")


def test_reasons_of_the_model_are_words_of_the_article(taxonomy: TopicTaxonomy) -> None:
    # A topic only the model found is explained by the article's own words
    # ("forces"), not by the model's stems ("forc").
    title = "Tatum layup at buzzer gives Celtics win over Nets"
    body = "Jayson Tatum made a layup at the buzzer to give Boston a 115-114 win over Brooklyn."
    words = set(re.findall(r"[^\W_]+", f"{title} {body}".lower()))
    found = taxonomy.classify(title, body, 0.05)
    assert found
    for topic in found:
        assert topic.terms
        assert all(part in words for term in topic.terms for part in term.split()), topic


def test_model_features_are_shown_as_written() -> None:
    assert _surface_words(
        ["forc", "interest rat"], "Storm forces closure", "Interest rates rose"
    ) == [
        "forces",
        "interest rates",
    ]


def test_starring_is_not_star() -> None:
    # "starring" is an arts term; the casino group Star is not a film.
    assert stems("starring") != stems("star")


# Lexicon gaps found on the dev sets, each in a text written for this test:
# (title, body, the first top-level topic or None, topics that must not be given).
LEXICON_CASES = {
    "price war is business, not war": (
        "Supermarkets start Christmas price war",
        "Britain's biggest grocers cut the prices of hundreds of festive staples on "
        "Thursday, and analysts expect the fiercest price war in a decade as shoppers hunt"
        " for discounts.",
        ECONOMY,
        {CONFLICT},
    ),
    "research team is science, not sport": (
        "Research team maps how a parasite hides in the liver",
        "A research team in Cape Town has mapped how the malaria parasite hides inside "
        "liver cells, using imaging of donated tissue.",
        TECH,
        {SPORT},
    ),
    "dengue in hospitals is health": (
        "Hospitals fill up as dengue cases climb",
        "Hospitals in the capital were treating patients in corridors on Monday as dengue "
        "admissions rose for a fourth week, with stagnant water left by late rains.",
        HEALTH,
        set(),
    ),
    "close of play in a Test is sport": (
        "Second Test, day two: hosts 310-6 at stumps",
        "The hosts closed on 310-6 at stumps, their opener unbeaten on 142 after a "
        "patient century.",
        SPORT,
        {HEALTH, ARTS},
    ),
    "exam results are education first": (
        "National pass rate edges up as exam results are published",
        "The national pass rate rose to 88 per cent for the class of 2025, the education "
        "minister said on Monday, with rural provinces closing the gap.",
        EDUCATION,
        set(),
    ),
    "satellite data does not make science": (
        "Deforestation falls to lowest level in a decade",
        "Deforestation in the rainforest fell 11 per cent in the year to July, the lowest"
        " in a decade, according to satellite data released by the government.",
        ENVIRONMENT,
        {TECH},
    ),
    "policy rates are economy, not politics": (
        "Central banks hold policy rates steady",
        "Central banks in Asia and Africa left their policy rates unchanged this week, "
        "citing easing inflation.",
        ECONOMY,
        {POLITICS},
    ),
    "a prisoner swap is war, not crime": (
        "Rebels and government swap 400 prisoners",
        "Rebel fighters and the army exchanged 400 prisoners on Tuesday in the first "
        "prisoner swap of the war, as fighting eased in the east.",
        CONFLICT,
        {CRIME},
    ),
    "a bag handed in at a police station is no crime": (
        "Taxi driver returns bag with $50,000 to tourist",
        "A taxi driver who found a bag holding $50,000 in cash on his back seat drove it "
        "straight to the police station, and the grateful tourist was reunited with it.",
        None,
        {CRIME},
    ),
}


@pytest.mark.parametrize("case", LEXICON_CASES, ids=list(LEXICON_CASES))
def test_lexicon_cases(taxonomy: TopicTaxonomy, case: str) -> None:
    title, body, first, absent = LEXICON_CASES[case]
    found = slugs(taxonomy, (title, body))
    assert first is None or found[0] == first
    assert not absent & set(found)
