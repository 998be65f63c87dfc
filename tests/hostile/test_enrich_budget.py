"""Bounded work per article: hostile text costs enrichment at most 5x prose of its size.

spaCy's tokenizer is quadratic (or worse) on long runs of punctuation, symbols or
emoji; before ``tokenizer_text`` 5 KB of "(" took 28x the time of 5 KB of prose
and 2 MB of "<" never finished. Mentions must still point into the stored fields.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from services.enrich.app import batch_parts
from services.enrich.entities import ner_text
from services.enrich.pipeline import Enricher, text_pieces
from shared.models import Article, ArticleIn
from shared.normalize import normalize, tokenizer_text
from shared.settings import Settings
from tests.hostile.conftest import best_time, prose

MAX_RATIO = 5.0


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    # A small NER budget keeps the 2 MB prose baselines quick; the cases below that
    # matter to the tokenizer (5-20 KB) fit in it whole.
    return Enricher(Settings(ner_max_chars=25_000))


def _article(field: str, text: str, title: str = "Hostile input test") -> Article:
    return normalize(ArticleIn(title=title, **{field: text}))


HOSTILE = {
    "sentence then 12,345 '('": ("body", "The government said. " + "(" * 12_345),
    "5 KB of '('": ("body", "(" * 5_000),
    "5 KB of emoji": ("body", "\U0001f600" * 5_000),
    "5 KB of 's": ("body", "'s" * 2_500),
    "20 KB of '('": ("body", "(" * 20_000),
    "20 KB of mixed brackets": ("body", "(<[{" * 5_000),
    "20 KB of spaced '('": ("body", "( " * 10_000),
    "20 KB of spaced emoji": ("body", "\U0001f600 " * 10_000),
    "20 KB of literal &amp;": ("body", "&amp;" * 4_000),
    "2 MB of '<' as HTML": ("html", "<" * 2_000_000),
    "&amp; x 400,000 as HTML": ("html", "&amp;" * 400_000),
    "2 MB unspaced token": ("body", "x" * 2_000_000),
    "2 MB of '(' as text": ("body", "(" * 2_000_000),
}


_PROSE_TIMES: dict[int, float] = {}


def _prose_time(enricher: Enricher, size: int) -> float:
    """Enrichment time of prose of ``size`` characters (measured once per size)."""
    if size not in _PROSE_TIMES:
        baseline = _article("body", prose(size))
        enricher.enrich_batch([baseline])  # warm caches alike
        _PROSE_TIMES[size] = best_time(lambda: enricher.enrich_batch([baseline]))
    return _PROSE_TIMES[size]


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_article_costs_at_most_5x_prose(enricher: Enricher, case: str) -> None:
    field, text = HOSTILE[case]
    hostile = _article(field, text)
    prose_time = _prose_time(enricher, len(hostile.body))
    hostile_time = best_time(lambda: enricher.enrich_batch([hostile]))
    assert hostile_time <= MAX_RATIO * prose_time, (
        f"{case}: {hostile_time:.3f} s, prose of {len(hostile.body)} chars {prose_time:.3f} s"
    )
    (doc,) = enricher.enrich_batch([hostile])
    assert doc.body == hostile.body  # stored as sent (after normalization)


def test_mentions_point_into_the_stored_fields(enricher: Enricher) -> None:
    body = (
        "Angela Merkel met Emmanuel Macron in Paris on Monday. "
        + "(" * 3_000
        + " Boris Johnson spoke in London!!!!!!!! about "
        + "'s" * 300
        + " Microsoft and Google. "
        + "\U0001f600 " * 50
        + "Officials in Nairobi agreed."
    )
    article = _article("body", body, title="Merkel (((((((( and Macron meet")
    (doc,) = enricher.enrich_batch([article])
    names = {e.name for e in doc.entities}
    assert {"Angela Merkel", "Emmanuel Macron", "Boris Johnson"} <= names, names
    for entity in doc.entities:
        for m in entity.mentions:
            field = doc.title if m.field == "title" else doc.body
            assert field[m.start : m.end] == m.text, (entity.name, m)
    for d in doc.dates:
        field = doc.title if d.field == "title" else doc.body
        assert field[d.start : d.end] == d.text


def test_ner_budget_cuts_and_says_so(enricher: Enricher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enricher, "settings", Settings(ner_max_chars=2_000))
    body = prose(1_500) + " Later, Angela Merkel arrived in Berlin. " + prose(3_000)
    article = _article("body", body)
    (doc,) = enricher.enrich_batch([article])
    assert doc.body == article.body
    assert doc.provenance.ner_limited is not None
    assert "NEWSFLOW_NER_MAX_CHARS" in doc.provenance.ner_limited
    ends = [m.end for e in doc.entities for m in e.mentions if m.field == "body"]
    assert ends and max(ends) <= 2_000
    assert "Angela Merkel" in {e.name for e in doc.entities}
    (short,) = enricher.enrich_batch([_article("body", prose(800))])
    assert short.provenance.ner_limited is None


def test_tokenizer_text_keeps_prose_and_offsets() -> None:
    text = (
        prose(20_000) + ' He said: "It\'s over..." (U.S.-based) - see https://example.com/a?b=1&c=2'
    )
    assert tokenizer_text(text) == text
    for hostile in ("(" * 50, "'s" * 50, "\U0001f600" * 30, "x" * 500, "( " * 40, "&amp;" * 40):
        masked = tokenizer_text("Paris " + hostile + " London")
        assert len(masked) == len(hostile) + 13
        assert masked.startswith("Paris ") and masked.endswith(" London")
        assert masked != "Paris " + hostile + " London"


@pytest.mark.parametrize("hostile", ["<" * 2_000_000, "&amp;" * 400_000, "( " * 1_000_000])
def test_tokenizer_text_is_linear(hostile: str) -> None:
    baseline = prose(len(hostile))
    prose_time = best_time(lambda: tokenizer_text(baseline))
    started = time.perf_counter()
    tokenizer_text(hostile)
    assert time.perf_counter() - started <= MAX_RATIO * prose_time + 0.05


def test_batch_parts_bound_characters_per_part() -> None:
    def item(n: int) -> tuple[bytes, Article]:
        return str(n).encode(), Article(
            id=str(n),
            title="t",
            body="x" * n,
            received_at=datetime.now(UTC),
            content_hash="h",
            word_count=1,
        )

    items = [item(n) for n in (400, 400, 300, 5_000, 10, 10)]
    parts = batch_parts(items, 1_000)
    assert [[a.id for _, a in part] for part in parts] == [
        ["400", "400"],
        ["300"],
        ["5000"],
        ["10", "10"],
    ]


def test_a_long_article_is_read_in_pieces_with_offsets_kept(enricher: Enricher) -> None:
    paragraphs = [
        prose(4_000) + " Angela Merkel spoke in Berlin.",
        prose(7_000) + " Emmanuel Macron answered from Paris.",
        prose(6_000) + " Boris Johnson flew to Washington.",
    ]
    article = _article("body", "\n\n".join(paragraphs))
    assert len(text_pieces(ner_text(article.title, article.body))) >= 2
    (doc,) = enricher.enrich_batch([article])
    names = {e.name for e in doc.entities}
    assert {"Angela Merkel", "Emmanuel Macron", "Boris Johnson"} <= names, names
    for entity in doc.entities:
        for m in entity.mentions:
            field = doc.title if m.field == "title" else doc.body
            assert field[m.start : m.end] == m.text, (entity.name, m)


def test_text_pieces_cover_the_text_in_order() -> None:
    text = "\n\n".join(prose(3_000 + 500 * n) for n in range(8)) + " " + "x" * 25_000
    pieces = text_pieces(text, 10_000)
    assert "".join(piece for _, piece in pieces) == text
    assert all(len(piece) <= 10_000 for _, piece in pieces)
    assert all(text[at : at + len(piece)] == piece for at, piece in pieces)
