"""Language detection on short news, and the routing of NER by language."""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.enrich.language import LanguageDetector, english_stopword_share, latin_script
from services.enrich.pipeline import Enricher
from shared.models import Article
from shared.settings import Settings

EVAL = Path(__file__).resolve().parents[2] / "eval" / "language"


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _items(name: str) -> list[dict[str, str]]:
    with (EVAL / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize(("name", "least_right"), [("short.tsv", 108), ("check.tsv", 24)])
def test_short_news_in_many_languages(
    detector: LanguageDetector, name: str, least_right: int
) -> None:
    """Headline-plus-sentence items: never a wrong language, and at most a few unknown.

    A table or list (``und``) may be unknown or English, never another language:
    that would route it away from NER."""
    right, wrong = 0, []
    for item in _items(name):
        code, _confidence = detector.detect(item["title"], item["body"])
        if item["lang"] == "und":
            ok = code in (None, "en")
        else:
            ok = code == item["lang"]
            if code is not None and not ok:
                wrong.append((item["title"], item["lang"], code))
        right += ok
    assert wrong == []
    assert right >= least_right


def test_two_sentence_spanish_and_short_english(detector: LanguageDetector) -> None:
    spanish = detector.detect(
        "El Madrid gana en el último minuto",
        "El gol de la victoria llegó en el minuto 89. La afición celebró hasta la madrugada.",
    )
    english = detector.detect(
        "Mayor resigns", "The mayor of Leeds resigned on Monday after a row over expenses."
    )
    assert spanish[0] == "es"
    assert english[0] == "en"


def test_wide_scripts_need_fewer_letters(detector: LanguageDetector) -> None:
    assert (
        detector.detect("政府が予算案を閣議決定", "政府は火曜日、来年度の予算案を閣議決定した。")[0]
        == "ja"
    )
    assert detector.detect("Results", "Japan 2 Syria 1") == (None, 0.0)


def test_script_and_stopword_helpers() -> None:
    assert latin_script("Zürich, Kraków and São Paulo")
    assert not latin_script("政府は火曜日、予算案を閣議決定した")
    assert not latin_script("12 34 56")
    assert english_stopword_share("The mayor of Leeds resigned") == pytest.approx(2 / 5)
    assert english_stopword_share("El gol de la victoria") == 0.0


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Settings(ner="on", spacy_model=None, taxonomy_path=None))


def _unlabelled(title: str, body: str) -> Article:
    digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
    return Article(
        id=digest[:32],
        title=title,
        body=body,
        source="test",
        language=None,
        received_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        content_hash=digest,
        word_count=len(title.split()) + len(body.split()),
    )


def test_short_spanish_gets_no_english_ner(enricher: Enricher) -> None:
    """Two Spanish sentences once came out as ``language: null``, and English NER
    read "el gol de la victoria" as a PERSON."""
    [done] = enricher.enrich_batch(
        [
            _unlabelled(
                "El Betis gana al Sevilla en el derbi",
                "El gol de la victoria llegó en el minuto 89. El minuto de silencio por las "
                "víctimas se respetó en todo el estadio.",
            )
        ]
    )
    assert done.language == "es"
    assert done.entities == []
    assert done.provenance.ner_skipped is not None and "'es'" in done.provenance.ner_skipped


def test_unknown_language_in_another_script_skips_english_ner(enricher: Enricher) -> None:
    [done] = enricher.enrich_batch([_unlabelled("速報", "東京 3 大阪 1")])
    assert done.language is None
    assert done.entities == []
    assert done.provenance.ner_skipped == "language unknown and the text is not in Latin script"
