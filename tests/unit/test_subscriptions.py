"""Saved filter subscriptions: which enriched articles a filter matches, and its validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.models import EnrichedArticle, Entity, Provenance, Topic
from shared.subscriptions import FilterIndex, Matcher, SavedFilter

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


# --- the index of saved filters -----------------------------------------------------

_TOPICS = [
    ("medtop:16000000", "conflict-war-and-peace"),
    ("medtop:11000000", "politics"),
    ("medtop:15000000", "sport"),
]
_NAMES = ["Iraq", "Iran", "Zürich", "U.S.", "Donald Trump"]
_WORDS = ["troop", "withdrawal", "baghdad", "troop withdrawal", "Asks US", "storm"]
_LANGS = ["en", "en-us", "en-US-x-twain", "fr", "de-CH"]
_SOURCES = ["Reuters", "reuters", "AP"]


def _some(draw: st.DrawFn, items: list[str], most: int = 3) -> list[str]:
    return draw(st.lists(st.sampled_from(items), max_size=most, unique=True))


@st.composite
def _filters(draw: st.DrawFn) -> list[SavedFilter]:
    found = []
    for n in range(draw(st.integers(0, 12))):
        topics = [draw(st.sampled_from(pair)) for pair in draw(st.lists(st.sampled_from(_TOPICS)))]
        found.append(
            SavedFilter(
                name=f"f{n}",
                topics=topics,
                topics_mode=draw(st.sampled_from(["any", "all"])),
                entities=_some(draw, [*_NAMES, "zurich", "us"]),
                keywords=_some(draw, [*_WORDS, "TROOP"]),
                language=draw(st.none() | st.sampled_from(["en", "en-us", "fr", "de"])),
                source=draw(st.none() | st.sampled_from(_SOURCES)),
            )
        )
    return found


@st.composite
def _docs(draw: st.DrawFn) -> EnrichedArticle:
    topics = [
        Topic(qcode=qcode, label=slug, slug=slug, relevance=0.5)
        for qcode, slug in draw(st.lists(st.sampled_from(_TOPICS), unique=True))
    ]
    entities = [
        Entity(name=name, type="GPE", salience=0.5, mention_count=1) for name in _some(draw, _NAMES)
    ]
    title = " ".join(_some(draw, _WORDS, 4)) or "Nothing"
    return doc(
        topics=topics,
        entities=entities,
        keywords=_some(draw, _WORDS),
        title=title,
        language=draw(st.sampled_from(_LANGS)),
        source=draw(st.sampled_from(_SOURCES)),
    )


@settings(max_examples=400, deadline=None)
@given(filters=_filters(), article=_docs())
def test_the_index_finds_exactly_the_filters_that_match(
    filters: list[SavedFilter], article: EnrichedArticle
) -> None:
    expected = sorted(f.name for f in filters if f.matches(article))
    assert FilterIndex(filters).matching(article) == expected


def test_the_index_checks_only_filters_that_could_match() -> None:
    filters = [SavedFilter(name=f"team-{n}", topics=[f"topic-{n}"]) for n in range(1000)]
    filters.append(SavedFilter(name="politics", topics=["politics"]))
    index = FilterIndex(filters)
    checked: list[str] = []
    original = Matcher.matches

    def counting(self: Matcher, features: Any) -> bool:
        checked.append(self.name)
        return original(self, features)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Matcher, "matches", counting)
        assert index.matching(doc()) == ["politics"]
    assert checked == ["politics"]


@pytest.mark.parametrize(
    ("name", "kind", "found_by", "not_found_by"),
    [
        ("Donald Trump", "PERSON", "trump", "donald"),
        ("Martin Luther King Jr.", "PERSON", "King", "Jr"),
        ("Jannik Sinner", "PERSON", "SINNER", "jannik"),
        ("Beyoncé", "PERSON", "beyonce", "b"),
        ("Bank of America", "ORG", "bank of america", "america"),
        ("New York City", "GPE", "new york city", "city"),
    ],
)
def test_a_person_is_found_by_surname_and_nothing_else_by_its_last_word(
    name: str, kind: str, found_by: str, not_found_by: str
) -> None:
    article = doc(entities=[Entity(name=name, type=kind, salience=1.0, mention_count=1)])
    assert SavedFilter(name="f", entities=[found_by]).matches(article)
    assert not SavedFilter(name="f", entities=[not_found_by]).matches(article)
