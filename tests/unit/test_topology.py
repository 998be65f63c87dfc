"""``shared.topology``: every stream declared once, found by its name."""

from __future__ import annotations

import re

import pytest

from shared import topology
from shared.models import DeadLetter, EnrichedArticle, StoredEvent
from shared.streams import StreamNames

NAMES = StreamNames("{nf}:")


def test_each_stream_name_finds_its_declaration() -> None:
    assert topology.spec_of(NAMES, NAMES.raw) is topology.RAW
    assert topology.spec_of(NAMES, NAMES.topic("sport")) is topology.TOPICS
    assert topology.spec_of(NAMES, NAMES.subs("flood-alerts")) is topology.SUBS
    assert topology.spec_of(NAMES, NAMES.stored).model is StoredEvent
    assert topology.spec_of(NAMES, NAMES.dlq).model is DeadLetter
    assert topology.spec_of(NAMES, NAMES.topic("sport")).model is EnrichedArticle


def test_an_undeclared_stream_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match=re.escape("'{nf}:articles:other' is not declared")):
        topology.spec_of(NAMES, "{nf}:articles:other")
    with pytest.raises(KeyError):
        topology.spec_of(NAMES, "newsflow:articles:raw")  # another prefix
    with pytest.raises(KeyError):
        topology.spec_of(NAMES, "{nf}:topics:")  # a family needs its name


def test_the_pipeline_groups_are_the_declared_readers() -> None:
    assert topology.pipeline_groups(NAMES) == [
        (NAMES.inbox, "ingest"),
        (NAMES.raw, "enrich"),
        (NAMES.enriched, "sink"),
    ]


def test_only_streams_no_group_works_through_are_capped() -> None:
    for spec in topology.STREAMS:
        capped = spec.trim is topology.Trim.CAPPED
        assert capped == (spec.cap is not None), spec.key
        assert not (capped and spec.groups), f"{spec.key}: a capped stream loses a group's work"
        if spec.trim is topology.Trim.LIMITS:
            assert spec.is_family and spec.glob(NAMES).endswith(":*")


def test_webhook_streams_are_declared_families() -> None:
    deliveries = f"{NAMES.prefix}webhooks:wh_12ab:deliveries"
    assert topology.spec_of(NAMES, deliveries) is topology.WEBHOOK_DELIVERIES
    assert topology.spec_of(NAMES, f"{NAMES.prefix}webhooks:wh_12ab:dlq") is topology.WEBHOOK_DLQ
    assert topology.WEBHOOK_DELIVERIES.glob(NAMES) == f"{NAMES.prefix}webhooks:*:deliveries"
    with pytest.raises(KeyError):
        topology.spec_of(NAMES, f"{NAMES.prefix}webhooks:a:b:deliveries")  # one part only
