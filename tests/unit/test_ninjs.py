"""``to_ninjs``: newsflow's model as IPTC ninjs 3.1, validated against the schema."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services.enrich.pipeline import Enricher
from shared.models import Article, EnrichedArticle, Entity, Mention, Provenance, Topic
from shared.ninjs import to_ninjs
from shared.settings import Settings
from tests.conftest import SHARED

SCHEMA_PATH = SHARED / "schemas" / "ninjs-schema_3.1.json"
GEOJSON_URI = "https://geojson.org/schema/GeoJSON.json"
# places[].geoJSON refers to the GeoJSON schema on the web; tests run offline, so
# that URI resolves to this local stand-in, which accepts the GeoJSON Points
# newsflow writes (RFC 7946: [longitude, latitude]) and nothing else.
GEOJSON_POINT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": GEOJSON_URI,
    "type": "object",
    "required": ["type", "coordinates"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "Point"},
        "coordinates": {
            "type": "array",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "minItems": 2,
            "maxItems": 3,
        },
    },
}


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or ":" in parts.path or bool(parts.path))


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time: a full date and time with an offset or Z."""
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    if not SCHEMA_PATH.exists():
        pytest.skip(f"ninjs schema not found at {SCHEMA_PATH}")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    registry: Registry[Any] = Registry().with_resource(
        GEOJSON_URI, Resource.from_contents(GEOJSON_POINT, default_specification=DRAFT202012)
    )
    checker = FormatChecker(formats=())
    checker.checks("uri")(_is_uri)
    checker.checks("date-time")(_is_date_time)
    return Draft202012Validator(schema, registry=registry, format_checker=checker)


def assert_valid(validator: Draft202012Validator, ninjs: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(ninjs), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def _provenance() -> Provenance:
    return Provenance(
        newsflow_version="0.1.0",
        ner_model="en_core_web_sm-3.8.0",
        taxonomy="IPTC Media Topics (subset) 2024",
        enriched_at=datetime(2026, 11, 27, 9, 0, 5, tzinfo=UTC),
    )


def make_doc(**overrides: Any) -> EnrichedArticle:
    title = overrides.pop("title", "Central bank cuts rates")
    body = overrides.pop("body", "The central bank cut interest rates on Thursday.")
    digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
    fields: dict[str, Any] = {
        "id": digest[:32],
        "title": title,
        "body": body,
        "received_at": datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        "content_hash": digest,
        "word_count": len(title.split()) + len(body.split()),
        "provenance": _provenance(),
    }
    fields.update(overrides)
    return EnrichedArticle(**fields)


def test_seed_article_enriched_for_real_is_valid_ninjs(
    validator: Draft202012Validator, seed_text: tuple[str, str]
) -> None:
    title, body = seed_text
    digest = hashlib.sha256(f"seed\n{title}\n{body}".encode()).hexdigest()
    article = Article(
        id=digest[:32],
        title=title,
        body=body,
        url="https://news.test/iraq?utm_source=rss",
        canonical_url="https://news.test/iraq",
        source="seed",
        authors=["AFP"],
        language="en",
        published_at=datetime(2020, 1, 10, 12, 0, tzinfo=UTC),
        received_at=datetime(2020, 1, 10, 12, 5, tzinfo=UTC),
        content_hash=digest,
        word_count=len(title.split()) + len(body.split()),
    )
    [doc] = Enricher(Settings(ner="on", spacy_model=None, taxonomy_path=None)).enrich_batch(
        [article]
    )
    ninjs = to_ninjs(doc)
    assert_valid(validator, ninjs)

    assert ninjs["uri"] == "https://news.test/iraq"
    assert ninjs["type"] == "text"
    assert ninjs["standard"] == {
        "name": "ninjs",
        "version": "3.1",
        "schema": "https://www.iptc.org/std/ninjs/ninjs-schema_3.1.json",
    }
    assert ninjs["firstCreated"] == ninjs["versionCreated"] == "2020-01-10T12:00:00Z"
    assert ninjs["headlines"] == [{"role": "main", "value": title}]
    assert ninjs["bodies"][0]["value"] == body
    assert ninjs["bodies"][0]["contentType"] == "text/plain"
    assert ninjs["language"] == "en"
    assert ninjs["by"] == "AFP"
    assert ninjs["located"] == "Baghdad"  # the dateline "BAGHDAD - ..."
    assert "Donald Trump" in {p["name"] for p in ninjs["people"]}
    place_names = {p["name"] for p in ninjs["places"]}
    assert {"Iraq", "Baghdad"} <= place_names
    assert "Donald Trump" not in place_names
    baghdad = next(p for p in ninjs["places"] if p["name"] == "Baghdad")
    assert baghdad["uri"] == "https://sws.geonames.org/98182/"
    longitude, latitude = baghdad["geoJSON"]["coordinates"]
    assert 44 < longitude < 45 and 33 < latitude < 34
    topics = [s for s in ninjs["subjects"] if "uri" in s]
    by_uri = {s["uri"]: s for s in topics}
    assert {
        "http://cv.iptc.org/newscodes/mediatopic/11000000",
        "http://cv.iptc.org/newscodes/mediatopic/16000000",
    } <= set(by_uri)
    assert by_uri["http://cv.iptc.org/newscodes/mediatopic/11000000"]["name"] == (
        "politics and government"
    )
    for subject, topic in zip(topics, doc.topics, strict=True):
        assert isinstance(subject["relevance"], int) and 0 <= subject["relevance"] <= 100
        assert subject["relevance"] == round(topic.relevance * 100)
        assert subject["creator"] == "machine"
        assert subject["literal"] == topic.qcode
    keywords = [s["name"] for s in ninjs["subjects"] if s.get("rel") == "keyword"]
    assert keywords == doc.keywords
    assert {"role": "newsflow", "value": doc.id} in ninjs["altIds"]
    assert {"role": "url", "value": "https://news.test/iraq?utm_source=rss"} in ninjs["altIds"]
    assert {"name": "seed", "role": "source"} in ninjs["infoSources"]
    json.dumps(ninjs)  # plain JSON types only


def test_without_url_topics_or_entities(validator: Draft202012Validator) -> None:
    doc = make_doc()
    ninjs = to_ninjs(doc)
    assert_valid(validator, ninjs)
    assert ninjs["uri"] == f"urn:newsflow:article:{doc.id}"
    # No publication date: received_at stands in.
    assert ninjs["firstCreated"] == "2026-11-27T09:00:00Z"
    for absent in ("people", "organisations", "places", "subjects", "by", "located", "language"):
        assert absent not in ninjs
    assert ninjs["infoSources"] == [{"name": "newsflow 0.1.0", "role": "enricher"}]


def test_non_english_article_with_places_and_coordinates(
    validator: Draft202012Validator,
) -> None:
    body = "PARIS - Le gouvernement a présenté jeudi son budget à Lyon."
    doc = make_doc(
        title="Le gouvernement présente son budget",
        body=body,
        language="fr",
        url="https://exemple.test/budget",
        canonical_url="https://exemple.test/budget",
        published_at=datetime(2026, 3, 5, 8, 30, tzinfo=UTC),
        authors=["Marie Curie", "Jean Dupont"],
        source="exemple.test",
        external_id="ext-42",
        entities=[
            Entity(
                name="Paris",
                type="GPE",
                salience=0.6,
                mention_count=1,
                mentions=[Mention(field="body", start=0, end=5, text="PARIS")],
                country_code="FR",
                latitude=48.85341,
                longitude=2.3488,
                geonames_id=2988507,
            ),
            Entity(name="Lyon", type="GPE", salience=0.3, mention_count=1, country_code="FR"),
            Entity(name="Alpes", type="LOC", salience=0.1, mention_count=1),
            Entity(name="Banque de France", type="ORG", salience=0.4, mention_count=2),
            Entity(name="Bruno Le Maire", type="PERSON", salience=0.5, mention_count=1),
            Entity(name="Français", type="NORP", salience=0.1, mention_count=1),
        ],
        topics=[
            Topic(
                qcode="medtop:20000587",
                label="economic policy",
                slug="economic-policy",
                relevance=0.724,
                level=2,
                broader="medtop:11000000",
            ),
            Topic(
                qcode="medtop:04000000",
                label="economy, business and finance",
                slug="economy-business-and-finance",
                relevance=1.0,
            ),
            Topic(qcode="custom:budget", label="budget", slug="budget", relevance=0.0),
        ],
        keywords=["budget", "gouvernement"],
    )
    ninjs = to_ninjs(doc)
    assert_valid(validator, ninjs)
    assert ninjs["language"] == "fr"
    assert ninjs["uri"] == "https://exemple.test/budget"
    assert ninjs["firstCreated"] == "2026-03-05T08:30:00Z"
    assert ninjs["by"] == "Marie Curie, Jean Dupont"
    assert ninjs["located"] == "Paris"
    assert ninjs["people"] == [{"name": "Bruno Le Maire"}]
    assert ninjs["organisations"] == [{"name": "Banque de France"}]
    assert ninjs["places"] == [
        {
            "name": "Paris",
            "uri": "https://sws.geonames.org/2988507/",
            "geoJSON": {"type": "Point", "coordinates": [2.3488, 48.85341]},
        },
        {"name": "Lyon"},
        {"name": "Alpes"},
    ]
    subjects = ninjs["subjects"]
    assert subjects[0] == {
        "name": "economic policy",
        "uri": "http://cv.iptc.org/newscodes/mediatopic/20000587",
        "literal": "medtop:20000587",
        "relevance": 72,
        "creator": "machine",
    }
    assert subjects[1]["relevance"] == 100
    # A QCode outside IPTC Media Topics keeps its literal but gets no mediatopic uri.
    assert subjects[2] == {
        "name": "budget",
        "literal": "custom:budget",
        "relevance": 0,
        "creator": "machine",
    }
    assert subjects[3:] == [
        {"name": "budget", "rel": "keyword", "creator": "machine"},
        {"name": "gouvernement", "rel": "keyword", "creator": "machine"},
    ]
    assert {"role": "external", "value": "ext-42"} in ninjs["altIds"]
    # The URL as sent equals the canonical one: not repeated.
    assert not any(a["role"] == "url" for a in ninjs["altIds"])


def test_place_mentioned_mid_paragraph_is_not_a_dateline(
    validator: Draft202012Validator,
) -> None:
    doc = make_doc(
        body="Talks were held in Geneva - and ended early.",
        entities=[
            Entity(
                name="Geneva",
                type="GPE",
                salience=0.5,
                mention_count=1,
                mentions=[Mention(field="body", start=19, end=25, text="Geneva")],
            )
        ],
    )
    ninjs = to_ninjs(doc)
    assert_valid(validator, ninjs)
    assert "located" not in ninjs
    assert ninjs["places"] == [{"name": "Geneva"}]


def test_schema_rejects_what_ninjs_does_not_allow(validator: Draft202012Validator) -> None:
    """The validator is strict: unknown properties and out-of-range relevance fail."""
    ninjs = to_ninjs(make_doc())
    assert not validator.is_valid({**ninjs, "keywords": ["x"]})
    bad_subject = {"name": "x", "relevance": 101}
    assert not validator.is_valid({**ninjs, "subjects": [bad_subject]})
    assert not validator.is_valid({k: v for k, v in ninjs.items() if k != "uri"})
    assert not validator.is_valid({**ninjs, "firstCreated": "2026-11-27"})
    # places[].geoJSON is checked too (against the local GeoJSON Point stand-in).
    bad_place = {"name": "x", "geoJSON": {"type": "Point", "coordinates": [200, 0]}}
    assert not validator.is_valid({**ninjs, "places": [bad_place]})
