"""Export an ``EnrichedArticle`` as IPTC ninjs 3.1 (news in JSON).

``GET /v1/articles/{id}?format=ninjs`` answers with ``to_ninjs(doc)``; the default
JSON stays newsflow's own model. The mapping:

- ``uri``: the canonical URL, else ``urn:newsflow:article:<id>``; the newsflow id,
  the URL as sent, the external id and the content hash are kept in ``altIds``.
- ``firstCreated`` / ``versionCreated``: ``published_at``, else ``received_at``.
- ``headlines`` / ``bodies`` (``text/plain``), ``language``, ``by`` (the authors),
  ``infoSources`` (the source, and newsflow as the enricher).
- ``people`` (PERSON), ``organisations`` (ORG), ``places`` (GPE, LOC; a GeoNames
  ``uri`` and a GeoJSON point where known); ``located`` is the place of a dateline
  ("BAGHDAD - ...") when the body starts a paragraph with one.
- ``subjects``: each IPTC Media Topic with ``uri``
  ``http://cv.iptc.org/newscodes/mediatopic/<code>``, ``name``, the QCode as
  ``literal``, ``relevance`` 0-100 and ``creator`` ``"machine"``; then each keyword
  (``rel`` ``"keyword"``, no ``uri``).

ninjs 3.1 has no place for the other entity types, the dates or the full
provenance; the default JSON has them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from shared.models import EnrichedArticle, Entity

NINJS_VERSION = "3.1"
NINJS_SCHEMA_URI = "https://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"
MEDIATOPIC_URI = "http://cv.iptc.org/newscodes/mediatopic/"
MEDIATOPIC_QCODE_PREFIX = "medtop:"
GEONAMES_URI = "https://sws.geonames.org/{}/"
CREATOR = "machine"
PLACE_TYPES = frozenset({"GPE", "LOC"})

# What may follow a dateline's place name: "BAGHDAD - ", "PARIS, March 3 (AFP) -".
_DATELINE_TAIL = re.compile(r"\s*(?:[-–—,(]|\()")


def article_uri(doc: EnrichedArticle) -> str:
    """The ninjs ``uri``: the canonical URL, else a newsflow URN."""
    return doc.canonical_url or f"urn:newsflow:article:{doc.id}"


def mediatopic_uri(qcode: str) -> str | None:
    """``medtop:11000000`` -> ``http://cv.iptc.org/newscodes/mediatopic/11000000``."""
    if not qcode.startswith(MEDIATOPIC_QCODE_PREFIX):
        return None
    code = qcode.removeprefix(MEDIATOPIC_QCODE_PREFIX)
    return MEDIATOPIC_URI + code if code else None


def percent(value: float) -> int:
    """A 0-1 score as the integer 0-100 ninjs wants."""
    return max(0, min(100, round(value * 100)))


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _language_tag(language: str) -> str:
    return language.replace("_", "-")


def _place(entity: Entity) -> dict[str, Any]:
    place: dict[str, Any] = {"name": entity.name}
    if entity.geonames_id is not None:
        place["uri"] = GEONAMES_URI.format(entity.geonames_id)
    if entity.latitude is not None and entity.longitude is not None:
        # GeoJSON positions are [longitude, latitude].
        place["geoJSON"] = {"type": "Point", "coordinates": [entity.longitude, entity.latitude]}
    return place


def _dateline_place(doc: EnrichedArticle) -> str | None:
    """The place a paragraph of the body starts with, followed by a dash or a comma."""
    for entity in doc.entities:
        if entity.type not in PLACE_TYPES:
            continue
        for mention in entity.mentions:
            if mention.field != "body":
                continue
            starts_paragraph = mention.start == 0 or doc.body[: mention.start].endswith("\n")
            if starts_paragraph and _DATELINE_TAIL.match(doc.body, mention.end):
                return entity.name
    return None


def _subjects(doc: EnrichedArticle) -> list[dict[str, Any]]:
    subjects: list[dict[str, Any]] = []
    for topic in doc.topics:
        subject: dict[str, Any] = {"name": topic.label}
        uri = mediatopic_uri(topic.qcode)
        if uri is not None:
            subject["uri"] = uri
        subject.update(literal=topic.qcode, relevance=percent(topic.relevance), creator=CREATOR)
        subjects.append(subject)
    subjects.extend(
        {"name": keyword, "rel": "keyword", "creator": CREATOR} for keyword in doc.keywords
    )
    return subjects


def to_ninjs(doc: EnrichedArticle) -> dict[str, Any]:
    """``doc`` as a ninjs 3.1 object (valid against ``ninjs-schema_3.1.json``)."""
    created = _timestamp(doc.published_at or doc.received_at)
    out: dict[str, Any] = {
        "uri": article_uri(doc),
        "standard": {"name": "ninjs", "version": NINJS_VERSION, "schema": NINJS_SCHEMA_URI},
        "type": "text",
        "representationType": "full",
        "pubStatus": "usable",
        "firstCreated": created,
        "versionCreated": created,
    }
    if doc.language:
        out["language"] = _language_tag(doc.language)
    out["headlines"] = [{"role": "main", "value": doc.title}]
    out["bodies"] = [
        {
            "role": "main",
            "contentType": "text/plain",
            "charCount": len(doc.body),
            "wordCount": len(doc.body.split()),
            "value": doc.body,
        }
    ]
    if doc.authors:
        out["by"] = ", ".join(doc.authors)
    located = _dateline_place(doc)
    if located is not None:
        out["located"] = located

    people = [{"name": e.name} for e in doc.entities if e.type == "PERSON"]
    organisations = [{"name": e.name} for e in doc.entities if e.type == "ORG"]
    places = [_place(e) for e in doc.entities if e.type in PLACE_TYPES]
    subjects = _subjects(doc)
    for key, items in (
        ("people", people),
        ("organisations", organisations),
        ("places", places),
        ("subjects", subjects),
    ):
        if items:
            out[key] = items

    info_sources: list[dict[str, Any]] = []
    if doc.source:
        info_sources.append({"name": doc.source, "role": "source"})
    info_sources.append({"name": f"newsflow {doc.provenance.newsflow_version}", "role": "enricher"})
    out["infoSources"] = info_sources

    alt_ids = [{"role": "newsflow", "value": doc.id}]
    if doc.url and doc.url != doc.canonical_url:
        alt_ids.append({"role": "url", "value": doc.url})
    if doc.external_id:
        alt_ids.append({"role": "external", "value": doc.external_id})
    alt_ids.append({"role": "contentHash", "value": doc.content_hash})
    out["altIds"] = alt_ids
    return out
