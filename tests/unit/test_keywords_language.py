"""Keywords (yake-rust) and language detection (py3langid): offline and cheap."""

from __future__ import annotations

import time

import pytest

from services.enrich.keywords import KeywordExtractor, is_noun_phrase
from services.enrich.language import LanguageDetector
from shared.models import Entity

TITLE = "Central bank raises interest rates to fight inflation"
BODY = (
    "The central bank raised interest rates by half a point on Thursday, its fifth increase "
    "this year, as inflation stayed well above target. Governor Maria Lopez said interest "
    "rates would stay high until inflation fell. Mortgage costs will rise for millions of "
    "households, and economists expect slower growth next year."
)


@pytest.fixture(scope="module")
def extractor() -> KeywordExtractor:
    return KeywordExtractor()


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def person(name: str) -> Entity:
    return Entity(name=name, type="PERSON", salience=0.5, mention_count=1, surface_forms=[name])


def test_keywords_of_an_english_article(extractor: KeywordExtractor) -> None:
    keywords = extractor.extract(TITLE, BODY, "en", [person("Maria Lopez")])
    lowered = [k.lower() for k in keywords]
    assert 0 < len(keywords) <= 10
    assert any("interest rates" in k for k in lowered)
    assert any("inflation" in k for k in lowered)
    assert len(set(lowered)) == len(lowered)
    # Pieces of a name are not keywords; the whole name may be.
    assert "lopez" not in lowered and "governor maria" not in lowered


def test_unsupported_language_gives_no_keywords(extractor: KeywordExtractor) -> None:
    assert extractor.extract(TITLE, BODY, "sw", []) == []
    assert not extractor.language_supported("sw")
    assert extractor.language_supported("pt-BR")
    assert extractor.extract("", "", "en", []) == []


def test_keywords_are_cheap(extractor: KeywordExtractor) -> None:
    long_body = " ".join([BODY] * 12)  # about 1,000 words
    started = time.perf_counter()
    for _ in range(5):
        extractor.extract(TITLE, long_body, "en", [])
    assert (time.perf_counter() - started) / 5 < 0.05


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (TITLE, BODY, "en"),
        (
            "Le gouvernement annonce une réforme",
            "Le Premier ministre a présenté mardi une réforme des retraites très contestée "
            "par les syndicats.",
            "fr",
        ),
        (
            "Die Regierung kündigt eine Reform an",
            "Der Bundeskanzler hat am Dienstag eine umstrittene Rentenreform vorgestellt.",
            "de",
        ),
    ],
)
def test_language_is_detected(
    detector: LanguageDetector, title: str, body: str, expected: str
) -> None:
    code, confidence = detector.detect(title, body)
    assert code == expected
    assert confidence >= 0.8


def test_too_little_text_is_unknown(detector: LanguageDetector) -> None:
    assert detector.detect("Results", "Japan 2 Syria 1") == (None, 0.0)
    assert detector.version.startswith("py3langid-")


@pytest.mark.parametrize(
    "fragment",
    [
        "Alcaraz beats",
        "prepare troop",
        "weaken Iraqi",
        "Friday",
        "early January",
        "deaths rise",
        "trains cancelled",
        "strike halts",
        "Italian civil",
        "hits",
        "formally installed",
    ],
)
def test_clause_fragments_and_dates_are_not_keywords(fragment: str) -> None:
    assert not is_noun_phrase(fragment)


@pytest.mark.parametrize(
    "phrase",
    [
        "interest rates",
        "peace talks",
        "weather warning",
        "Cooper Connolly",
        "launch schedule",
        "armed forces",
        "central bank",
        "rail funding",
        "Premier League",
    ],
)
def test_noun_phrases_stay_keywords(phrase: str) -> None:
    assert is_noun_phrase(phrase)


def test_keywords_of_a_headline_clause_are_noun_phrases(extractor: KeywordExtractor) -> None:
    title = "Alcaraz beats Sinner on Friday as organisers prepare troop escort"
    body = (
        "Carlos Alcaraz beat Jannik Sinner in Turin on Friday. Organisers said they would "
        "prepare troop escorts for the final, which could weaken Iraqi and Italian interest "
        "in the tournament, according to the tennis federation. The tennis federation said "
        "ticket sales for the final had doubled since January."
    )
    keywords = extractor.extract(title, body, "en", [person("Carlos Alcaraz")])
    assert keywords
    assert all(is_noun_phrase(k) for k in keywords)
    lowered = [k.casefold() for k in keywords]
    assert not [k for k in lowered if "friday" in k or "january" in k]
    assert not [k for k in lowered if k.endswith("beats") or k.startswith(("prepare", "weaken"))]
    assert any("federation" in k for k in lowered)  # a noun phrase of the text is kept
    # Other languages keep YAKE!'s phrases: the English rules do not apply to them.
    assert extractor.select([("vendredi soir", 0.1)], [], "fr") == ["vendredi soir"]


def test_a_possessive_plural_keeps_no_apostrophe(extractor: KeywordExtractor) -> None:
    found = [("Iraqi forces'", 0.01), ("troop withdrawal", 0.02)]
    assert extractor.select(found) == ["Iraqi forces", "troop withdrawal"]
