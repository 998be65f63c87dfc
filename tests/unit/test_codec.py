"""The stream entry codec: one ``json`` field that any Redis client can read."""

from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from shared.codec import dumps, entry_json, loads, to_fields
from shared.models import (
    Article,
    EnrichedArticle,
    Entity,
    Mention,
    Provenance,
    Topic,
)


def _enriched(
    title: str = "Iraq asks US", body: str = "Iraq asks US for a team."
) -> EnrichedArticle:
    now = datetime(2020, 1, 10, 12, tzinfo=UTC)
    return EnrichedArticle(
        id="abc",
        title=title,
        body=body,
        received_at=now,
        content_hash="h",
        word_count=5,
        entities=[
            Entity(
                name="Iraq",
                type="GPE",
                salience=1.0,
                mention_count=2,
                surface_forms=["Iraq"],
                mentions=[Mention(field="title", start=0, end=4, text="Iraq")],
            )
        ],
        topics=[
            Topic(
                qcode="medtop:11000000",
                label="politics",
                slug="politics",
                relevance=0.9,
                terms=["government"],
            )
        ],
        provenance=Provenance(
            newsflow_version="0.1.0", ner_model="m", taxonomy="t", enriched_at=now
        ),
    )


def test_round_trip_keeps_every_field() -> None:
    doc = _enriched()
    assert loads(EnrichedArticle, dumps(doc)) == doc


def test_entry_has_one_plain_json_field_with_the_documented_names() -> None:
    fields = to_fields(_enriched())
    assert list(fields) == ["json"]
    data = orjson.loads(fields["json"])
    assert data["schema_version"] == 1
    assert data["entities"][0]["mentions"][0] == {
        "field": "title",
        "start": 0,
        "end": 4,
        "text": "Iraq",
    }
    assert data["topics"][0]["qcode"] == "medtop:11000000"
    assert data["received_at"] == "2020-01-10T12:00:00+00:00"
    assert entry_json({b"json": b"{}"}) == b"{}"
    assert entry_json({b"other": b"x"}) is None


def test_enriched_entry_decodes_as_plain_article() -> None:
    assert isinstance(loads(Article, dumps(_enriched())), Article)


@given(st.text(min_size=1), st.text(min_size=1))
def test_any_text_round_trips(title: str, body: str) -> None:
    doc = _enriched(title, body)
    assert loads(EnrichedArticle, dumps(doc)) == doc
