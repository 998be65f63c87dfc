"""Saved filter subscriptions: which enriched articles a filter matches, and its validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.models import EnrichedArticle, Entity, Provenance, Topic
from shared.subscriptions import SavedFilter

NOW = datetime(2026, 11, 27, 9, tzinfo=UTC)


def doc(**changes: Any) -> EnrichedArticle:
    base = EnrichedArticle(
        id="a1",
        title="Iraq asks US for team to prepare troop withdrawal",
        body="BAGHDAD - Iraq asked the United States ...",
        source="Reuters",
        language="en",
        received_at=NOW,
        content_hash="h",
        word_count=8,
        entities=[
            Entity(name="Iraq", type="GPE", salience=1.0, mention_count=2),
            Entity(name="Iran", type="GPE", salience=0.5, mention_count=1),
        ],
        topics=[
            Topic(
                qcode="medtop:16000000",
                label="conflict, war and peace",
                slug="conflict-war-and-peace",
                relevance=0.9,
            ),
            Topic(qcode="medtop:11000000", label="politics", slug="politics", relevance=0.7),
        ],
        keywords=["troop withdrawal", "baghdad"],
        provenance=Provenance(newsflow_version="0", ner_model="m", taxonomy="t", enriched_at=NOW),
    )
    return base.model_copy(update=changes)


def test_empty_filter_matches_everything() -> None:
    assert SavedFilter(name="all").matches(doc())
    assert SavedFilter(name="all").matches(doc(topics=[], entities=[], keywords=[]))


@pytest.mark.parametrize(
    ("topics", "mode", "expected"),
    [
        (["politics"], "any", True),
        (["medtop:16000000"], "any", True),
        (["sport", "politics"], "any", True),
        (["sport"], "any", False),
        (["politics", "conflict-war-and-peace"], "all", True),
        (["politics", "medtop:16000000"], "all", True),
        (["politics", "sport"], "all", False),
        (["Politics"], "any", True),
    ],
)
def test_topics_any_or_all_by_slug_or_qcode(topics: list[str], mode: str, expected: bool) -> None:
    sub = SavedFilter.model_validate({"name": "t", "topics": topics, "topics_mode": mode})
    assert sub.matches(doc()) is expected


@pytest.mark.parametrize(
    ("entities", "expected"),
    [(["Iran"], True), (["iran"], True), (["France", "IRAQ"], True), (["France"], False)],
)
def test_entities_any_case_insensitive(entities: list[str], expected: bool) -> None:
    assert SavedFilter(name="e", entities=entities).matches(doc()) is expected


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        (["Trump"], True),  # a surface form of "Donald Trump"
        (["TRUMP"], True),
        (["donald trump"], True),
        (["US"], True),  # the article wrote "U.S."; dots are folded
        (["Donald"], False),  # whole names, never a word of one
        (["Melania Trump"], False),
    ],
)
def test_entities_match_any_name_the_article_used(entities: list[str], expected: bool) -> None:
    named = doc(
        entities=[
            Entity(
                name="Donald Trump",
                type="PERSON",
                salience=1.0,
                mention_count=2,
                surface_forms=["Donald Trump", "Trump"],
            ),
            Entity(
                name="United States",
                type="GPE",
                salience=0.4,
                mention_count=1,
                surface_forms=["U.S."],
            ),
        ]
    )
    assert SavedFilter(name="e", entities=entities).matches(named) is expected


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        (["Troop Withdrawal"], True),  # an article keyword
        (["baghdad"], True),
        (["team"], True),  # a title word
        (["prepare troop"], True),  # a phrase of the title
        (["tea"], False),  # part of a word is not a word
        (["election"], False),
        (["election", "US"], True),
    ],
)
def test_keywords_match_article_keywords_or_title_words(
    keywords: list[str], expected: bool
) -> None:
    assert SavedFilter(name="k", keywords=keywords).matches(doc()) is expected


def test_language_and_source() -> None:
    assert SavedFilter(name="l", language="en").matches(doc())
    assert SavedFilter(name="l", language="EN").matches(doc(language="en-GB"))
    assert not SavedFilter(name="l", language="fr").matches(doc())
    assert not SavedFilter(name="l", language="en").matches(doc(language=None))
    assert SavedFilter(name="s", source="reuters").matches(doc())
    assert not SavedFilter(name="s", source="AP").matches(doc())
    assert not SavedFilter(name="s", source="AP").matches(doc(source=None))


def test_criteria_are_and_ed() -> None:
    sub = SavedFilter(name="x", topics=["conflict-war-and-peace"], entities=["Iran"])
    assert sub.matches(doc())
    assert not sub.matches(doc(entities=[]))
    assert not sub.matches(doc(topics=[]))
    assert not SavedFilter(name="x", entities=["Iran"], language="fr").matches(doc())


@pytest.mark.parametrize("name", ["", "Upper", "-start", "a b", "a" * 65, "a/b", "ü"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        SavedFilter(name=name)
    assert info.value.errors()[0]["loc"] == ("name",)


def test_unknown_fields_and_bad_mode_are_refused() -> None:
    with pytest.raises(ValidationError):
        SavedFilter.model_validate({"name": "x", "topic": ["politics"]})
    with pytest.raises(ValidationError):
        SavedFilter.model_validate({"name": "x", "topics_mode": "some"})


def test_terms_are_stripped_and_deduplicated() -> None:
    sub = SavedFilter(name="d_1", entities=[" Iran ", "Iran", "Iraq"])
    assert sub.entities == ["Iran", "Iraq"]
    with pytest.raises(ValidationError):
        SavedFilter(name="d", keywords=["  "])
