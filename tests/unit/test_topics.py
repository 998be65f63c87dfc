"""IPTC Media Topics from the packaged lexicon, and user-edited taxonomy files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.enrich.topics import TaxonomyError, TopicTaxonomy, stem, stems
from shared.models import Topic
from shared.settings import Settings
from shared.streams import slugify

POLITICS = "medtop:11000000"
CONFLICT = "medtop:16000000"
SPORT = "medtop:15000000"
ECONOMY = "medtop:04000000"
DISASTER = "medtop:03000000"
HEALTH = "medtop:07000000"
THRESHOLD = Settings.model_fields["topic_threshold"].default

SPORT_TEXT = (
    "Liverpool beat Chelsea 2-1 to go top of the Premier League",
    "Mohamed Salah scored twice as Liverpool came from behind to beat Chelsea 2-1 at "
    "Anfield on Saturday and move top of the Premier League table. Chelsea took the lead "
    "through a first-half header from their captain before Salah equalised from the "
    "penalty spot after the break. The Egyptian striker then curled in the winner with "
    "ten minutes left. The home fans chanted the manager's name at the final whistle, "
    "and the win leaves Liverpool two points clear with eight matches of the season left.",
)
RATES_TEXT = (
    "Bank of England raises interest rates to 5.25%",
    "The Bank of England raised interest rates by a quarter of a percentage point on "
    "Thursday, the 14th increase in a row, as policymakers tried to bring inflation down "
    "from more than twice the central bank's 2% target. The decision will push up "
    "mortgage costs for millions of households. Economists expect borrowing costs to stay "
    "high for longer, and the pound rose against the dollar after the announcement.",
)
QUAKE_TEXT = (
    "Earthquake kills dozens in western Turkey",
    "A magnitude 6.8 earthquake struck western Turkey early on Monday, killing at least "
    "40 people and injuring hundreds more, the country's disaster agency said. Rescue "
    "workers searched through the rubble of collapsed buildings for survivors as "
    "aftershocks shook the region. The death toll is expected to rise.",
)
VACCINE_TEXT = (
    "New vaccine cuts malaria deaths in children, study finds",
    "A new malaria vaccine reduced deaths among young children by a third in a large "
    "clinical trial across four African countries, researchers reported on Wednesday. "
    "The vaccine, given in three doses, was safe, and health officials said it could save "
    "tens of thousands of lives a year. Doctors at rural clinics said demand was high.",
)


@pytest.fixture(scope="module")
def taxonomy() -> TopicTaxonomy:
    return TopicTaxonomy.load()


def qcodes(topics: list[Topic]) -> list[str]:
    return [t.qcode for t in topics]


# --- the packaged file ------------------------------------------------------------


def test_packaged_taxonomy_metadata(taxonomy: TopicTaxonomy) -> None:
    assert taxonomy.name == "iptc-mediatopic"
    assert taxonomy.version.startswith("2025-10-09+newsflow.")
    assert taxonomy.provenance == f"iptc-mediatopic {taxonomy.version} ({taxonomy.classifier})"
    assert taxonomy.classifier.startswith("newsflow-lexicon 3 + newsflow-topic-model ")
    assert "IPTC, International Press Telecommunications Council - https://iptc.org" in (
        taxonomy.attribution
    )
    assert "CC BY 4.0" in taxonomy.attribution


def test_packaged_taxonomy_hierarchy(taxonomy: TopicTaxonomy) -> None:
    top = [t for t in taxonomy.topics if t.top_level]
    assert [t.qcode for t in top] == [f"medtop:{n:02d}000000" for n in range(1, 18)]
    assert taxonomy.topic(CONFLICT).label == "conflict, war and peace"
    assert taxonomy.topic(CONFLICT).slug == "conflict-war-and-peace"
    for topic in top:
        # Plain terms, and ambiguous context terms that count only beside them.
        assert 20 <= len(topic.terms) <= 140, topic.label
        assert 40 <= len(topic.terms) + len(topic.context_terms) <= 200, topic.label
        assert all(term == term.lower() for term in (*topic.terms, *topic.context_terms))
        assert not set(topic.terms) & set(topic.context_terms)
    narrower = [t for t in taxonomy.topics if not t.top_level]
    assert len(narrower) == 120
    top_codes = {t.qcode for t in top}
    for topic in narrower:
        assert topic.broader in top_codes
        assert topic.terms[0] == topic.label.lower()
        # newsflow's own terms (plain or context) follow the label
        assert len(topic.terms) + len(topic.context_terms) >= 2, topic.label
    for topic in taxonomy.topics:
        assert topic.slug == slugify(topic.label)


def test_packaged_file_carries_no_iptc_definitions() -> None:
    path = Path(__file__).resolve().parents[2] / "services/enrich/data/taxonomy.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    for topic in document["topics"]:
        assert {"qcode", "label", "slug", "broader", "terms"} <= set(topic)
        assert set(topic) <= {
            *("qcode", "label", "slug", "broader", "terms"),
            *("context_terms", "negative_terms"),
        }
        assert not any(key.startswith("definition") for key in topic)


# --- classification ---------------------------------------------------------------


def test_seed_is_politics_and_conflict(taxonomy: TopicTaxonomy, seed_text: tuple[str, str]) -> None:
    topics = taxonomy.classify(*seed_text, threshold=THRESHOLD)
    found = {t.qcode: t for t in topics}
    assert {POLITICS, CONFLICT} <= set(found)
    assert found[CONFLICT].slug == "conflict-war-and-peace"
    assert "troops" in found[CONFLICT].terms
    assert "parliament" in found[POLITICS].terms
    assert qcodes(topics)[:2] in ([CONFLICT, POLITICS], [POLITICS, CONFLICT])


def test_match_report_is_sport_not_politics(taxonomy: TopicTaxonomy) -> None:
    found = qcodes(taxonomy.classify(*SPORT_TEXT, threshold=THRESHOLD))
    assert found[0] == SPORT
    assert POLITICS not in found
    assert CONFLICT not in found


def test_rate_decision_is_economy(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(*RATES_TEXT, threshold=THRESHOLD)
    assert qcodes(topics)[0] == ECONOMY
    assert {"interest rate", "central bank", "inflation"} <= set(topics[0].terms)


def test_earthquake_is_disaster(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(*QUAKE_TEXT, threshold=THRESHOLD)
    assert qcodes(topics)[0] == DISASTER
    assert topics[0].label == "disaster, accident and emergency incident"


def test_vaccine_story_is_health(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(*VACCINE_TEXT, threshold=THRESHOLD)
    assert qcodes(topics)[0] == HEALTH
    # "clinical trial" is health; the courtroom "trial" inside it does not count.
    assert "medtop:02000000" not in qcodes(taxonomy.classify(*VACCINE_TEXT, threshold=0.0))


def test_threshold_is_respected(taxonomy: TopicTaxonomy, seed_text: tuple[str, str]) -> None:
    everything = taxonomy.classify(*seed_text, threshold=0.0)
    assert len(everything) > 2
    relevances = [t.relevance for t in everything]
    assert relevances == sorted(relevances, reverse=True)
    assert all(0.0 < r < 1.0 for r in relevances)
    strict = taxonomy.classify(*seed_text, threshold=0.9)
    assert strict == [t for t in everything if t.relevance >= 0.9]
    assert taxonomy.classify(*seed_text, threshold=1.0) == []


def test_terms_are_distinct_most_frequent_first(
    taxonomy: TopicTaxonomy, seed_text: tuple[str, str]
) -> None:
    for topic in taxonomy.classify(*seed_text, threshold=0.0):
        assert len(topic.terms) == len(set(topic.terms)) <= 10
    conflict = next(t for t in taxonomy.classify(*seed_text, 0.3) if t.qcode == CONFLICT)
    assert conflict.terms[0] == "troops"  # the most repeated conflict word of the seed


def test_title_weighs_more_than_body(taxonomy: TopicTaxonomy) -> None:
    in_title = taxonomy.classify("Voters head to the polls", "It rained.", 0.0)
    in_body = taxonomy.classify("Rain today", "Voters head to the polls.", 0.0)
    assert in_title[0].qcode == POLITICS
    assert in_title[0].relevance > next(t for t in in_body if t.qcode == POLITICS).relevance


def test_long_articles_need_more_evidence(taxonomy: TopicTaxonomy) -> None:
    short = taxonomy.classify("News", "The minister and the lawmakers met.", 0.0)
    padding = " The weather was mild and the streets were quiet." * 100
    long = taxonomy.classify("News", "The minister and the lawmakers met." + padding, 0.0)
    politics_short = next(t for t in short if t.qcode == POLITICS)
    politics_long = next(t for t in long if t.qcode == POLITICS)
    assert politics_long.relevance < politics_short.relevance


def test_no_match_no_topics(taxonomy: TopicTaxonomy) -> None:
    assert taxonomy.classify("Untitled", "Lorem ipsum dolor sit amet.", 0.0) == []
    assert taxonomy.classify("", "", 0.0) == []


def test_inflections_match_and_phrases_win(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify("Drone strikes", "Drone strikes hit the area.", 0.0)
    conflict = next(t for t in topics if t.qcode == CONFLICT)
    assert conflict.terms == ["drone strike"]
    assert "medtop:09000000" not in qcodes(topics)  # not a labour strike


def test_stemmer_conflates_inflections_only() -> None:
    assert stem("votes") == stem("voted") == stem("voting") == stem("vote")
    assert stem("economies") == stem("economy")
    assert stem("stopped") == stem("stop")
    assert stems("Iraq's TROOPS withdrew") == ["iraq", "s", "troop", "withdrew"]
    assert stem("news") != stem("new")
    assert stem("wine") != stem("win")
    assert stem("wines") == stem("wine")
    assert stem("pope") != stem("pop")


# --- user-edited files ----------------------------------------------------------------


def write_taxonomy(path: Path, topics: list[dict[str, Any]], **extra: Any) -> Path:
    document = {"name": "custom", "version": "1", "attribution": "me", "topics": topics, **extra}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


AI_TOPIC = {
    "qcode": "custom:ai",
    "label": "artificial intelligence",
    "broader": None,
    "terms": ["Machine Learning", "neural network"],
}


def test_user_taxonomy_from_settings_tags_text(tmp_path: Path) -> None:
    path = write_taxonomy(tmp_path / "taxonomy.json", [AI_TOPIC])
    settings = Settings(taxonomy_path=path)
    taxonomy = TopicTaxonomy.load(settings.taxonomy_path)
    # A user file of its own topics: the model knows none of them, the terms decide.
    assert taxonomy.provenance == "custom 1 (newsflow-lexicon 3)"
    topics = taxonomy.classify(
        "Neural networks beat doctors",
        "A neural network trained with machine learning read the scans.",
        settings.topic_threshold,
    )
    assert [(t.qcode, t.label, t.slug) for t in topics] == [
        ("custom:ai", "artificial intelligence", "artificial-intelligence")
    ]
    assert topics[0].terms == ["neural network", "machine learning"]


def test_user_topic_under_a_parent(tmp_path: Path) -> None:
    parent = {"qcode": "x:tech", "label": "tech", "terms": ["software"]}
    child = {**AI_TOPIC, "broader": "x:tech"}
    taxonomy = TopicTaxonomy.load(write_taxonomy(tmp_path / "t.json", [parent, child]))
    assert taxonomy.topic("custom:ai").broader == "x:tech"
    assert taxonomy.topic("x:tech").slug == "tech"


@pytest.mark.parametrize(
    ("topics", "extra", "message"),
    [
        ([{**AI_TOPIC, "term": ["x"]}], {}, r"topics\.0\.term"),
        ([AI_TOPIC, AI_TOPIC], {}, "custom:ai appears more than once"),
        ([{**AI_TOPIC, "broader": "custom:nope"}], {}, "broader 'custom:nope'"),
        ([{**AI_TOPIC, "slug": "ai"}], {}, "slug 'ai'"),
        ([{**AI_TOPIC, "qcode": "b", "label": "Artificial Intelligence"}, AI_TOPIC], {}, "share"),
        ([], {}, "topics"),
        ([AI_TOPIC], {"descripton": "typo"}, "descripton"),
    ],
)
def test_invalid_taxonomy_files_are_rejected(
    tmp_path: Path, topics: list[dict[str, Any]], extra: dict[str, Any], message: str
) -> None:
    path = write_taxonomy(tmp_path / "bad.json", topics, **extra)
    with pytest.raises(TaxonomyError, match=message) as info:
        TopicTaxonomy.load(path)
    assert str(path) in str(info.value)


def test_unreadable_taxonomy_files_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        TopicTaxonomy.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid JSON"):
        TopicTaxonomy.load(broken)


# --- newsflow.3 lexicon and scoring ----------------------------------------------

LABOUR = "medtop:09000000"
EDUCATION = "medtop:05000000"
SCIENCE_TECH = "medtop:13000000"
ARTS = "medtop:01000000"


def test_portfolio_titles_are_politics(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(
        "Education secretary unveils plans",
        "The education secretary told MPs that the plans would go ahead after the election.",
        0.0,
    )
    assert qcodes(topics)[0] == POLITICS
    assert topics[0].terms[0] == "education secretary"
    # The phrase takes its words: "education" alone is not matched.
    assert EDUCATION not in qcodes(topics)


def test_uk_party_politics_vocabulary(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(
        "Shadow chancellor attacks tax plans",
        "The shadow chancellor said the Lib Dem and Tory leader speeches showed the party "
        "was ready for the general election campaign.",
        THRESHOLD,
    )
    assert qcodes(topics)[0] == POLITICS
    assert {"shadow chancellor", "tory leader", "general election"} <= set(topics[0].terms)


def test_gadget_story_is_technology(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(
        "New games console goes on sale",
        "The handheld games console lets gamers play online over broadband and download "
        "music to its hard drive.",
        THRESHOLD,
    )
    assert qcodes(topics)[0] == SCIENCE_TECH
    assert topics[0].terms[:2] == ["games console", "handheld"]


def test_pension_fund_is_finance_not_labour(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(
        "Pension fund deficit grows",
        "The company said its pension fund deficit had grown, and shares fell as investors "
        "worried about dividends.",
        0.0,
    )
    assert qcodes(topics)[0] == ECONOMY
    assert "pension fund" in topics[0].terms
    assert LABOUR not in qcodes(topics)


def test_music_chart_story_is_arts(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify(
        "Singer tops album chart",
        "The singer's debut album went straight to the top of the album chart, and the band "
        "starts a world tour next month.",
        THRESHOLD,
    )
    assert qcodes(topics) == [ARTS, "medtop:20000002"]
    assert {"album chart", "debut album", "world tour"} <= set(topics[0].terms)


def test_a_phrase_weighs_as_much_as_its_words(tmp_path: Path) -> None:
    topics = [
        {"qcode": "x:phrase", "label": "phrase", "terms": ["interest rate"]},
        {"qcode": "x:words", "label": "words", "terms": ["profit", "loss"]},
    ]
    taxonomy = TopicTaxonomy.load(write_taxonomy(tmp_path / "t.json", topics))
    found = {t.qcode: t for t in taxonomy.classify("", "Interest rate. Profit and loss.", 0.0)}
    assert found["x:phrase"].relevance == found["x:words"].relevance


# --- the fast matcher gives the plain reading of the text ------------------------------


def test_case_spacing_and_punctuation_do_not_change_results(
    taxonomy: TopicTaxonomy, seed_text: tuple[str, str]
) -> None:
    title, body = seed_text
    expected = taxonomy.classify(title, body, 0.0)
    assert taxonomy.classify(title.upper(), body.upper(), 0.0) == expected
    assert taxonomy.classify(title, "  \n\t".join(body.split()), 0.0) == expected
    rates = taxonomy.classify("Rates", "The central bank (and its interest-rate) decision.", 0.0)
    assert {"central bank", "interest rate"} <= set(rates[0].terms)


def test_phrases_do_not_run_across_title_and_body(taxonomy: TopicTaxonomy) -> None:
    topics = taxonomy.classify("Drone", "strikes hit the area.", 0.0)
    assert all("drone strike" not in t.terms for t in topics)


def test_threshold_equal_to_a_relevance_keeps_the_topic(
    taxonomy: TopicTaxonomy, seed_text: tuple[str, str]
) -> None:
    for topic in taxonomy.classify(*seed_text, threshold=0.0):
        kept = taxonomy.classify(*seed_text, threshold=topic.relevance)
        assert topic in kept
        assert all(t.relevance >= topic.relevance for t in kept)


def test_word_cache_is_bounded(
    monkeypatch: pytest.MonkeyPatch, taxonomy: TopicTaxonomy, seed_text: tuple[str, str]
) -> None:
    import services.enrich.topics as topics_module

    expected = taxonomy.classify(*seed_text, threshold=0.0)
    fresh = TopicTaxonomy.load()
    monkeypatch.setattr(topics_module, "_CHUNK_CACHE_SIZE", 50)
    for n in range(300):
        fresh.classify(f"Word{n}", f"filler{n} text{n}", 0.0)
        assert len(fresh._chunk_codes) <= 50
    assert fresh.classify(*seed_text, threshold=0.0) == expected


def test_classify_from_several_threads(taxonomy: TopicTaxonomy, seed_text: tuple[str, str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [seed_text, SPORT_TEXT, RATES_TEXT, QUAKE_TEXT, VACCINE_TEXT] * 20
    fresh = TopicTaxonomy.load()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda text: fresh.classify(*text, threshold=0.0), texts))
    assert results == [taxonomy.classify(*text, threshold=0.0) for text in texts]


def test_packaged_taxonomy_is_what_the_build_script_makes() -> None:
    """The JSON the worker loads and scripts/build_taxonomy.py (its lexicon) agree, so
    rebuilding from IPTC's export loses no hand-made term."""
    import importlib.util

    from tests.conftest import SHARED

    path = Path(__file__).resolve().parents[2] / "scripts" / "build_taxonomy.py"
    spec = importlib.util.spec_from_file_location("build_taxonomy", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    concepts = json.loads((SHARED / "taxonomy" / "iptc-mediatopic.json").read_text("utf-8"))
    packaged = json.loads(
        (Path(__file__).resolve().parents[2] / "services/enrich/data/taxonomy.json").read_text(
            "utf-8"
        )
    )
    assert script.build(concepts, "2025-10-09") == packaged
