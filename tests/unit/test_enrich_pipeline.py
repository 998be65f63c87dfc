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
    assert enriched.keywords == []


def test_provenance_names_model_and_taxonomy(enricher: Enricher, seed_article: Article) -> None:
    before = datetime.now(UTC)
    [enriched] = enricher.enrich_batch([seed_article])
    provenance = enriched.provenance
    assert provenance.newsflow_version == shared.__version__
    assert provenance.ner_model is not None
    assert provenance.ner_model.startswith("en_core_web_sm")
    assert provenance.ner_model.endswith("-3.8.0")
    assert provenance.taxonomy == "iptc-mediatopic 2025-10-09+newsflow.1"
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
    assert enriched.provenance.taxonomy == "my-topics 2"
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
