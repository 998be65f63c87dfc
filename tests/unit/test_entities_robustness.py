"""No text makes enrichment raise: tables, datelines and lists of real-looking
copy through ``Enricher.enrich_batch`` with the real model."""

from __future__ import annotations

import gc
import logging
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrich import pipeline
from services.enrich.entities import RawSpan, extract, ner_text, passes
from services.enrich.geo import Gazetteer
from services.enrich.pipeline import Enricher
from shared.settings import Settings
from tests.unit.test_enrich_pipeline import make_article

GAZETTEER = Gazetteer.default()


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


# --- a pass that fails costs the article that pass only --------------------------


def test_a_failing_pass_degrades_one_article_not_the_batch(
    enricher: Enricher, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(state: passes.State) -> None:
        if "Tanker" in state.article.title:
            raise ValueError("max() arg is an empty sequence")

    replaced = tuple(
        passes.Pass(p.name, p.stage, broken) if p.name == "results_tables" else p
        for p in passes.PASSES
    )
    monkeypatch.setattr(passes, "PASSES", replaced)
    tanker = make_article(
        "Tanker fixtures", "Shell chartered the tanker in London for a voyage to Jeddah."
    )
    other = make_article("Rates", "Maersk said in Copenhagen that rates held steady.")
    with caplog.at_level(logging.WARNING, logger="services.enrich.entities.passes"):
        first, second = enricher.enrich_batch([tanker, other])
    assert first.provenance.degraded == ["entities:results_tables"]
    assert second.provenance.degraded == []
    # Without the failed pass the article still has the model's entities.
    assert {"London", "Jeddah"} <= {e.name for e in first.entities}
    assert "results_tables" in caplog.text


def test_entities_failing_as_a_whole_leave_the_rest_of_the_article(
    enricher: Enricher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(pipeline, "extract", explode)
    [enriched] = enricher.enrich_batch(
        [make_article("Storm hits coast", "A storm hit the coast of Cornwall on Friday.")]
    )
    assert enriched.entities == []
    assert enriched.provenance.degraded == ["entities"]
    assert enriched.dates  # the dates step still ran


# --- property: no text makes the passes raise ----------------------------------------

_CAPS = st.sampled_from(["LONDON", "NEW YORK", "MIDEAST", "RED SEA", "AL-AIN", "ST LOUIS"])
_NAME = st.sampled_from(
    ["Blue Harbour", "Kansas City", "Detroit", "Jan Novak", "Shell", "Jeddah", "Aa", "Bb", "US"]
)
_NUMBER = st.sampled_from(["1", "2-0", "120", "05/12", "W60", "$12.50", "1,250", ".559", "66.60"])
_TOKEN = st.one_of(
    _CAPS,
    _NAME,
    _NUMBER,
    st.sampled_from(["(", ")", "/", "-", "v", "at", "At", ":", ",", "\n", "(Germany)", "the"]),
    st.text(max_size=6),
)
_FRAGMENT = st.lists(_TOKEN, max_size=25).map(" ".join)


def _random_spans(text: str, data: st.DataObject) -> list[RawSpan]:
    labels = st.sampled_from(["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "DATE", "FAC"])
    spans: list[RawSpan] = []
    for _ in range(data.draw(st.integers(0, 8))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, len(text)))
        spans.append(RawSpan(start, end, data.draw(labels)))
    return spans


@settings(max_examples=300, deadline=None)
@given(title=_FRAGMENT, body=st.lists(_FRAGMENT, max_size=6).map("\n".join), data=st.data())
def test_no_copy_makes_a_pass_raise(title: str, body: str, data: st.DataObject) -> None:
    spans = _random_spans(ner_text(title, body), data)
    found = extract(title, body, spans, GAZETTEER)
    assert found.degraded == []
    for entity in found.entities:
        for m in entity.mentions:
            assert (title if m.field == "title" else body)[m.start : m.end] == m.text


@settings(max_examples=60, deadline=None)
@given(title=_FRAGMENT, body=st.lists(_FRAGMENT, max_size=6).map("\n".join))
def test_no_copy_makes_enrichment_raise_with_the_model(
    enricher: Enricher, title: str, body: str
) -> None:
    [enriched] = enricher.enrich_batch([make_article(title or "x", body)])
    assert enriched.provenance.degraded == []


# --- linear time -------------------------------------------------------------------

_SIZE = 50_000
_PROSE = (
    "The finance minister, Maria Lopez, told reporters in Madrid on Tuesday that the "
    "World Bank and Reuters had seen the figures before the summit in Geneva. "
)
_HOSTILE = {
    "one-line-of-names-and-paren": ("Aa Bb Cc Dd ", "("),
    "scores-on-one-line": ("Aa 1 Bb 2 ", ""),
    "score-lines": ("Aa 1 Bb 2\n", ""),
    "competitors": ("Jan Novak (Czech Republic) 66.60 ", ""),
}


def _text(unit: str, end: str, size: int) -> str:
    return (unit * size)[: size - len(end)] + end


def _timed(enricher: Enricher, body: str) -> tuple[float, float]:
    """Seconds for the model and for the passes over one article.

    The garbage collector is paused while timing: its full collections scan every
    live object (the model, the gazetteer), so where they fall would make the
    scaling of the passes themselves look worse or better than it is."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        doc = enricher.nlp(ner_text("Results", body))
        model = time.perf_counter() - started
        started = time.perf_counter()
        found = extract("Results", body, list(doc.ents), enricher.gazetteer)
        rules = time.perf_counter() - started
    finally:
        gc.enable()
    assert found.degraded == []
    return model, rules


@pytest.mark.parametrize("case", list(_HOSTILE))
def test_hostile_tables_cost_a_few_times_prose(enricher: Enricher, case: str) -> None:
    unit, end = _HOSTILE[case]
    prose_model, prose_rules = _timed(enricher, _text(_PROSE, "", _SIZE))
    model, rules = _timed(enricher, _text(unit, end, _SIZE))
    _, half_rules = _timed(enricher, _text(unit, end, _SIZE // 2))
    # The whole enrichment of the article within a few times prose of its size.
    assert model + rules <= 5 * (prose_model + prose_rules)
    # The passes linear: twice the text, about twice the time (they were quadratic:
    # 4x, and minutes on 100 KB).
    assert rules <= 2.6 * half_rules + 0.05
