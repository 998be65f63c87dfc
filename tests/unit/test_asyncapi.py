"""``newsflow docs``: the AsyncAPI document is generated offline and checked in up to date."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from services.docs import cmd_docs, generate, render
from tests.conftest import REPO

CHECKED_IN = REPO / "docs" / "asyncapi.json"


def test_generation_is_offline_and_deterministic() -> None:
    # The brokers point at localhost:6379 but are never started: nothing listens there.
    assert render(generate()) == render(generate())


def test_checked_in_document_is_up_to_date() -> None:
    assert CHECKED_IN.exists(), "docs/asyncapi.json is missing: run `make docs`"
    assert CHECKED_IN.read_text(encoding="utf-8") == render(generate()), (
        "docs/asyncapi.json is stale: run `make docs` (or `newsflow docs`) and commit it"
    )


def _channels(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in document["channels"].values()}


def test_document_names_every_stream_and_its_messages() -> None:
    document = generate()
    assert document["asyncapi"] == "3.0.0"
    addresses = set(_channels(document))
    assert addresses == {
        "newsflow:inbox",
        "newsflow:articles:raw",
        "newsflow:articles:enriched",
        "newsflow:topics:{slug}",
        "newsflow:subs:{name}",
        "newsflow:dlq",
        "newsflow:events:stored",
        "newsflow:incidents",
        "newsflow:webhooks:{id}:deliveries",
        "newsflow:webhooks:{id}:dlq",
    }
    groups = {
        (c["address"], c["bindings"]["redis"]["groupName"])
        for c in document["channels"].values()
        if c["bindings"]["redis"]["method"] == "xreadgroup"
    }
    assert groups == {
        ("newsflow:inbox", "ingest"),
        ("newsflow:articles:raw", "enrich"),
        ("newsflow:articles:enriched", "sink"),
    }
    schemas = document["components"]["schemas"]
    assert {"ArticleIn", "Article", "EnrichedArticle", "DeadLetter", "StoredEvent"} <= set(schemas)
    assert "schema_version" in schemas["StoredEvent"]["properties"]
    enriched = schemas["EnrichedArticle"]["properties"]
    assert {"entities", "topics", "keywords", "provenance"} <= set(enriched)
    payloads = {
        message["payload"]["$ref"].rsplit("/", 1)[-1]
        for message in document["components"]["messages"].values()
    }
    assert payloads == {
        "ArticleIn",
        "Article",
        "EnrichedArticle",
        "DeadLetter",
        "StoredEvent",
        "DataLossIncident",
        "WebhookDelivery",
    }
    # No host- or process-specific values (the document is compared byte for byte).
    assert "<hostname>-<pid>" in json.dumps(document)


def test_prefix_is_applied() -> None:
    addresses = set(_channels(generate(prefix="{nf}:")))
    assert "{nf}:articles:enriched" in addresses


def test_cmd_docs_writes_the_file(tmp_path: Path) -> None:
    output = tmp_path / "out" / "asyncapi.json"
    assert cmd_docs(argparse.Namespace(output=output)) == 0
    assert json.loads(output.read_text(encoding="utf-8")) == json.loads(render(generate()))


def test_every_declared_stream_is_documented() -> None:
    # The document comes from shared.topology: a stream declared there is a channel.
    from shared.streams import StreamNames
    from shared.topology import STREAMS

    names = StreamNames("newsflow:")
    assert {spec.address(names) for spec in STREAMS} == set(_channels(generate()))
