"""No text makes enrichment raise: tables, datelines and lists of real-looking
copy through ``Enricher.enrich_batch`` with the real model."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from services.enrich.pipeline import Enricher
from shared.models import Article
from shared.settings import Settings


def make_article(title: str, body: str) -> Article:
    digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
    return Article(
        id=digest[:32],
        title=title,
        body=body,
        language="en",
        received_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        content_hash=digest,
        word_count=len(title.split()) + len(body.split()),
    )


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Settings(ner="on", spacy_model=None, taxonomy_path=None))


def test_shipping_fixtures_dateline_that_heads_a_line_of_figures(enricher: Enricher) -> None:
    # The dateline "LONDON" is followed by a date, so the results-table rules read
    # it as a team and the dateline rule as a venue: it used to leave nothing to
    # vote on and raise ValueError, failing the whole batch.
    tanker = make_article(
        "Tanker fixtures",
        "LONDON 2026-11-30 MIDEAST / RED SEA - Blue Harbour 120 05/12 Jeddah / Red Sea W60 Shell",
    )
    prose = make_article("Rates steady", "LONDON - Freight rates held steady on Monday.")
    enriched = enricher.enrich_batch([tanker, prose])
    assert [a.id for a in enriched] == [tanker.id, prose.id]
    names = {e.name: e for e in enriched[0].entities}
    assert names["London"].type == "GPE"
    assert names["London"].surface_forms == ["LONDON"]
    assert {e.name for e in enriched[1].entities} >= {"London"}
