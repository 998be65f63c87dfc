"""Each stage's handler as a plain function call: decoded entries in, the writes to
make, the dead letters and the counts out. No Redis anywhere in this file."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest

from services.enrich.app import handle_raw
from services.enrich.pipeline import Enricher
from services.ingest.app import handle_inbox
from services.runtime import BatchResult, Entry
from services.sink.app import handle_enriched
from services.up import stored_line
from shared.codec import loads, to_fields
from shared.models import SCHEMA_VERSION, Article, EnrichedArticle, StoredEvent
from shared.settings import Settings
from shared.streams import StreamNames
from shared.subscriptions import SavedFilter, matching
from tests.unit.test_enrich_pipeline import make_article

NAMES = StreamNames("test:")
SETTINGS = Settings(ner="on", spacy_model=None, taxonomy_path=None)


IRAQ = make_article(
    "US troops leave Iraq",
    "American forces withdrew from Baghdad on Monday, the Pentagon said. Iraqi "
    "Prime Minister Nouri al-Maliki called it a day of national sovereignty, and "
    "the parliament in Baghdad met to discuss the security agreement.",
)
SPORT = make_article(
    "Hamilton wins British Grand Prix",
    "Lewis Hamilton won the British Grand Prix at Silverstone on Sunday, ahead of Max "
    "Verstappen, to take the lead in the championship.",
)


def entry(entry_id: str, model: Any) -> Entry:
    """A stream entry as Redis hands it out (bytes keys and values)."""
    return (entry_id.encode(), {k.encode(): v for k, v in to_fields(model).items()})


def streams(result: BatchResult[Any]) -> list[str]:
    return [add.stream for add in result.adds]


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(SETTINGS)


class BrokenOn(Enricher):
    """An enricher with a bug that fires on one title (as the 'Tanker fixtures' rule did)."""

    def __init__(self, inner: Enricher, title: str) -> None:
        self.inner, self.title = inner, title

    def enrich_batch(self, articles: list[Article]) -> list[EnrichedArticle]:
        if any(a.title == self.title for a in articles):
            raise ValueError(f"entity rule failed on {self.title!r}")
        return self.inner.enrich_batch(articles)


# --- enrich -----------------------------------------------------------------------------


def test_enrich_writes_each_article_to_enriched_its_topics_and_matching_filters(
    enricher: Enricher,
) -> None:
    filters = [
        SavedFilter(name="iraq", entities=["Baghdad"]),
        SavedFilter(name="tennis", keywords=["wimbledon"]),
    ]
    result = handle_raw(
        [entry("1-0", IRAQ), (b"2-0", {b"json": b"{not json"})],
        enricher=enricher,
        filters=filters,
        names=NAMES,
        max_chars=100_000,
    )
    doc = loads(EnrichedArticle, result.adds[0].fields["json"])
    assert doc.id == IRAQ.id and doc.topics
    assert streams(result) == [
        NAMES.enriched,
        *(NAMES.topic(t.slug) for t in doc.topics),
        NAMES.subs("iraq"),
    ]
    # Every copy is the same document.
    assert len({a.fields["json"] for a in result.adds}) == 1
    [letter] = result.dead_letters
    assert (letter.entry_id, letter.source_stream, letter.error_class) == (
        "2-0",
        NAMES.raw,
        "InvalidMessage",
    )
    assert result.reasons == {"invalid": 1}
    assert result.counts == {"enriched": 1, "dead-lettered": 1}


def test_an_enrichment_bug_costs_one_article_not_the_batch(enricher: Enricher) -> None:
    result = handle_raw(
        [entry("1-0", SPORT), entry("2-0", IRAQ)],
        enricher=BrokenOn(enricher, IRAQ.title),
        filters=[],
        names=NAMES,
        max_chars=100_000,
    )
    enriched = [
        loads(EnrichedArticle, a.fields["json"]) for a in result.adds if a.stream == NAMES.enriched
    ]
    assert [d.id for d in enriched] == [SPORT.id]
    [letter] = result.dead_letters
    assert letter.entry_id == "2-0"
    assert letter.error_class == "ValueError" and "Tanker" not in letter.error
    assert IRAQ.title in letter.error
    assert result.reasons == {"error": 1}


def test_enrich_of_nothing_writes_nothing(enricher: Enricher) -> None:
    result = handle_raw([], enricher=enricher, filters=[], names=NAMES, max_chars=10)
    assert (result.adds, result.dead_letters, result.counts) == (
        [],
        [],
        {"enriched": 0, "dead-lettered": 0},
    )


def test_filter_matching_is_pure_over_the_filters_given(enricher: Enricher) -> None:
    [doc] = enricher.enrich_batch([IRAQ])
    filters = [
        SavedFilter(name="b", entities=["Baghdad"]),
        SavedFilter(name="a", language="en"),
        SavedFilter(name="fr", language="fr"),
    ]
    assert matching(filters, doc) == ["a", "b"]  # in name order
    assert matching([], doc) == []


# --- sink -------------------------------------------------------------------------------


def test_sink_stores_the_last_version_and_announces_each_stored_article(
    enricher: Enricher,
) -> None:
    first, other = enricher.enrich_batch([IRAQ, SPORT])
    again = first.model_copy(update={"title": "US troops leave Iraq (updated)"})
    result = handle_enriched(
        [entry("1-0", first), (b"2-0", {b"other": b"x"}), entry("3-0", other), entry("4-0", again)],
        NAMES,
    )
    assert [d.title for d in result.commit] == ["US troops leave Iraq (updated)", SPORT.title]
    assert streams(result) == [NAMES.stored, NAMES.stored]
    events = [loads(StoredEvent, a.fields["json"]) for a in result.adds]
    assert events[0].schema_version == SCHEMA_VERSION
    assert events[0].id == first.id and events[0].title.endswith("(updated)")
    assert events[0].topics == [(t.slug, t.qcode) for t in first.topics]
    assert events[0].entities == [(e.name, e.type) for e in first.entities[:5]]
    [letter] = result.dead_letters
    assert "no 'json' field" in letter.error
    assert result.counts == {"stored": 0, "dead-lettered": 1}  # "stored" is set by the commit


def test_newsflow_up_prints_a_stored_event_and_names_an_unreadable_one(
    enricher: Enricher,
) -> None:
    [doc] = enricher.enrich_batch([IRAQ])
    line = stored_line(to_fields(StoredEvent.of(doc)))
    assert line.startswith("[green]stored[/green] US troops leave Iraq")
    assert doc.topics[0].slug in line
    bad = stored_line({b"json": b'{"id": "x"}'})
    assert "unreadable events:stored entry" in bad and "title" in bad


# --- inbox ------------------------------------------------------------------------------


def test_inbox_submits_articles_and_dead_letters_what_is_not_one() -> None:
    good = {b"json": orjson.dumps({"title": "Ministers meet", "body": "They met in Paris."})}
    flat = {b"title": b"Flat entry", b"body": b"Fields as pairs."}
    unknown = {b"json": orjson.dumps({"title": "T", "body": "B", "colour": "red"})}
    result = handle_inbox(
        [(b"1-0", good), (b"2-0", unknown), (b"3-0", flat)],
        Settings(prefix="test:"),
        NAMES,
    )
    assert [a.title for a in result.commit] == ["Ministers meet", "Flat entry"]
    assert result.adds == []
    [letter] = result.dead_letters
    assert letter.entry_id == "2-0" and letter.source_stream == NAMES.inbox
    assert "colour" in letter.error
    assert result.reasons == {"invalid": 1}
    assert result.counts == {"accepted": 0, "duplicate": 0, "dead-lettered": 1}


# --- what the runtime does with a result --------------------------------------------------


class RecordingPipeline:
    """Stands in for a redis-py pipeline: records the commands, executes them as one."""

    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log
        self.queued: list[tuple[str, Any]] = []

    async def __aenter__(self) -> RecordingPipeline:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    def xadd(self, stream: str, fields: Any, **options: Any) -> None:
        self.queued.append(("xadd", (stream, options)))

    async def execute(self) -> None:
        self.log.append(("pipeline", list(self.queued)))


class RecordingClient:
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def pipeline(self, transaction: bool = False) -> RecordingPipeline:
        return RecordingPipeline(self.log)


async def test_the_runtime_commits_then_writes_one_pipeline_and_logs_one_line(
    enricher: Enricher, caplog: pytest.LogCaptureFixture
) -> None:
    from services.observability import batch_report
    from services.runtime import stage_process

    [doc] = enricher.enrich_batch([IRAQ])
    client = RecordingClient()

    async def handle(entries: list[Entry]) -> BatchResult[EnrichedArticle]:
        return handle_enriched(entries, NAMES)

    async def store(docs: list[EnrichedArticle]) -> dict[str, int]:
        client.log.append(("store", [d.id for d in docs]))
        return {"stored": len(docs)}

    process = stage_process(
        service="sink",
        client=client,  # type: ignore[arg-type]
        names=NAMES,
        handle=handle,
        commit=store,
    )
    with caplog.at_level(logging.INFO, logger="services.runtime"), batch_report() as report:
        await process([entry("1-0", doc), (b"2-0", {b"json": b"[]"})])

    assert client.log == [
        ("store", [doc.id]),
        (
            "pipeline",
            [
                # events:stored is capped as shared.topology declares; the DLQ too.
                ("xadd", (NAMES.stored, {"maxlen": 10_000, "approximate": True})),
                ("xadd", (NAMES.dlq, {"maxlen": 100_000, "approximate": True})),
            ],
        ),
    ]
    assert report.dead_letters == {"invalid": 1}
    [line] = [r.getMessage() for r in caplog.records if r.name == "services.runtime"]
    assert line.startswith("sink: stored 1, dead-lettered 1 of 2 in ")


def test_topic_and_subscription_entries_are_not_capped_on_write() -> None:
    from services.runtime import StreamAdd, queue_adds

    log: list[tuple[str, Any]] = []
    pipe = RecordingPipeline(log)
    queue_adds(
        pipe,
        NAMES,
        [StreamAdd(NAMES.topic("sport"), {}), StreamAdd(NAMES.subs("f1"), {})],
    )
    assert pipe.queued == [
        ("xadd", (NAMES.topic("sport"), {})),
        ("xadd", (NAMES.subs("f1"), {})),
    ]
