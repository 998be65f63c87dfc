"""Fault injection: real processes, a real ``redis-server`` with AOF, 5,000 articles.

Each scenario streams 5,000 distinct articles (about 60 words each, NER on)
through ``POST /v1/articles/batch`` at about 100 articles/s, strikes while
ingestion is under way, and then waits (bounded) for the pipeline to drain. It
passes when storage holds exactly the 5,000 ids the API acknowledged, each
enriched (NER model recorded, entities and topics present), with no duplicate
rows, nothing dead-lettered, nothing pending and nothing unread in either
consumer group, and the workers stop cleanly afterwards.

- control: no fault; the baseline the others are compared with.
- a: SIGKILL the enrich worker while it holds a batch (entries pending in its
  name on ``articles:raw``), restart it; a live consumer must reclaim them.
- b: the same for the sink on ``articles:enriched``.
- c: restart the Redis server mid-ingest with SIGTERM, as ``docker compose
  restart redis`` does: redis-server shuts down cleanly, fsyncing its AOF
  (``appendfsync everysec``, as in docker-compose.yml), stays down 3 s, and comes
  back on the same port and directory, replaying the AOF. The workers are not
  touched: they must reconnect on their own (one that exits anyway is restarted,
  as compose's ``restart: unless-stopped`` and ``newsflow up`` would, and the
  exit is printed as a finding). Meanwhile the API holds requests or answers
  503, and the ingester resends. A crash of the Redis process alone loses
  nothing either (with ``everysec`` Redis writes the AOF to the OS before it
  replies); a crash of the machine may lose the last second or two of writes,
  202s included, unless Redis runs with ``appendfsync always``. No process-level
  test can show that, so none pretends to.

Each prints one line (run pytest with ``-s`` to see it), also written to
``<tmp_path>/figures.json``::

    scenario=a sent=5000 stored=5000 duplicated=0 lost=0 recovery_s=3.1 ...

``recovery_s`` is, for a and b, the time from the SIGKILL until every entry the
dead consumer held has been acknowledged by a live one; for c, from the SIGTERM
until the first article the API accepted after the restart is stored.
``drained_s`` is from the fault until the whole pipeline is drained; ``total_s``
from the first article sent; ``tail_s`` from the last article acknowledged (the
ingester is paced, so ``total_s`` is about 50 s whenever the pipeline keeps up).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from tests.faults.conftest import (
    DRAIN_TIMEOUT_S,
    N_ARTICLES,
    RESTART_DELAY_S,
    Ingester,
    Pipeline,
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.timeout(
        900
        + 2 * float(os.environ.get("NEWSFLOW_FAULT_OUTAGE_S", "0"))
        + 2 * float(os.environ.get("NEWSFLOW_FAULT_REDIS_DOWN_S", "0"))
    ),
]

# A fault strikes once this many articles were acknowledged (ingestion is then
# about a third done) and this many are stored (the whole pipeline is flowing).
# The ingester holds at HOLD_AT until the fault has struck, so it always strikes
# mid-ingest, however slow the machine.
FAULT_AFTER_ACKED = 1_500
FAULT_AFTER_STORED = 500
HOLD_AT = 3_000
# 3 s in `make test`; NEWSFLOW_FAULT_REDIS_DOWN_S=120 for the two-minute outage of #13.
REDIS_DOWNTIME_S = float(os.environ.get("NEWSFLOW_FAULT_REDIS_DOWN_S", "3"))
KILL_ATTEMPTS = 5
# Kill a worker once it holds at least this many entries (enrich reads 32 at a time,
# and the sink gets most entries in runs of 31 from the enrich worker's pipeline).
KILL_MIN_PENDING = 16


@dataclass
class Figures:
    """What a scenario measured; printed as one ``key=value`` line."""

    scenario: str
    sent: int
    stored: int
    duplicated: int
    lost: int
    recovery_s: float | None
    drained_s: float | None
    total_s: float
    tail_s: float
    acked_at_fault: int | None = None
    orphans: int | None = None
    kill_attempts: int | None = None
    unexpected_exits: list[str] = field(default_factory=list)
    ingest_retries: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        parts = []
        for key, value in asdict(self).items():
            if value is None:
                continue
            if isinstance(value, float):
                text = f"{value:.1f}"
            elif isinstance(value, dict | list):
                text = json.dumps(value, separators=(",", ":"))
            else:
                text = str(value)
            parts.append(f"{key}={text}")
        return " ".join(parts)


@dataclass
class Fault:
    """When the fault struck and what it left behind."""

    at: float
    acked: int
    orphans: set[bytes] = field(default_factory=set)
    attempts: int = 1


def _healthy(ingester: Ingester) -> None:
    if ingester.error is not None:
        raise AssertionError(f"the ingester failed: {ingester.error!r}") from ingester.error


def _wait_for_fault_point(pipeline: Pipeline, ingester: Ingester) -> None:
    def reached() -> bool:
        _healthy(ingester)
        return (
            ingester.acked_count >= FAULT_AFTER_ACKED
            and pipeline.stored_count() >= FAULT_AFTER_STORED
        )

    pipeline.wait_until(reached, 180, f"{FAULT_AFTER_ACKED} acked and {FAULT_AFTER_STORED} stored")


def _kill_mid_batch(pipeline: Pipeline, ingester: Ingester, service: str) -> Fault:
    """SIGKILL ``service`` while entries are pending in its name; restart it.

    The worker's pending count is polled every few milliseconds; if the batch was
    acknowledged between the poll and the kill (nothing left pending), the worker
    is restarted and the kill tried again. The dead worker is restarted after
    ``RESTART_DELAY_S``, as ``newsflow up`` does.
    """
    stream, group = pipeline.stream_of(service)
    for attempt in range(1, KILL_ATTEMPTS + 1):
        _wait_for_fault_point(pipeline, ingester)
        pipeline.wait_ready(service)
        consumer = pipeline.workers[service].consumer
        started = time.monotonic()
        while True:
            pending = pipeline.consumer_pending(stream, group, consumer)
            # Prefer a full batch; settle for any batch if none shows up for a while.
            if pending >= KILL_MIN_PENDING or (pending and time.monotonic() - started > 10):
                break
            _healthy(ingester)
            if time.monotonic() - started > 120:
                raise AssertionError(
                    f"{service} never held a batch in 120 s\n{pipeline.diagnostics()}"
                )
            time.sleep(0.002)
        dead = pipeline.kill(service)
        fault = Fault(
            at=time.monotonic(),
            acked=ingester.acked_count,
            orphans=pipeline.pending_ids(stream, group, dead.consumer),
            attempts=attempt,
        )
        time.sleep(RESTART_DELAY_S)
        pipeline.start_worker(service)
        if fault.orphans:
            return fault
    raise AssertionError(f"{KILL_ATTEMPTS} kills of {service} left nothing pending")


def _wait_drained(pipeline: Pipeline, ingester: Ingester) -> float:
    def done() -> bool:
        _healthy(ingester)
        return (
            not ingester.is_alive() and pipeline.stored_count() >= N_ARTICLES and pipeline.drained()
        )

    return pipeline.wait_until(done, DRAIN_TIMEOUT_S, f"{N_ARTICLES} stored and the groups drained")


def _verify(
    pipeline: Pipeline,
    ingester: Ingester,
    *,
    scenario: str,
    started: float,
    fault: Fault | None,
    recovered_at: float | None,
    drained_at: float,
    tmp_path: Path,
) -> Figures:
    """Assert the end state a user would check; the figures of the scenario."""
    ingester.join(5)
    _healthy(ingester)
    acked_ids = set(ingester.acked.values())
    total, distinct, docs = pipeline.stored_documents()
    stored_ids = set(docs)
    dlq = pipeline.client.xlen(pipeline.names.dlq)
    figures = Figures(
        scenario=scenario,
        sent=len(ingester.articles),
        stored=distinct,
        duplicated=total - distinct,
        lost=len(acked_ids - stored_ids),
        recovery_s=None if fault is None or recovered_at is None else recovered_at - fault.at,
        drained_s=None if fault is None else drained_at - fault.at,
        total_s=drained_at - started,
        tail_s=drained_at - (ingester.finished_at or drained_at),
        acked_at_fault=None if fault is None else fault.acked,
        orphans=None if fault is None or not fault.orphans else len(fault.orphans),
        kill_attempts=None if fault is None or not fault.orphans else fault.attempts,
        unexpected_exits=[f"{e.service}:{e.code}" for e in pipeline.exits],
        ingest_retries=dict(ingester.retries),
        statuses=dict(ingester.statuses),
    )
    print(figures.line(), flush=True)
    (tmp_path / "figures.json").write_text(json.dumps(asdict(figures), indent=2))

    context = f"{figures.line()}\n{pipeline.diagnostics()}"
    assert len(ingester.acked) == N_ARTICLES, context
    assert len(acked_ids) == N_ARTICLES, f"ids not distinct\n{context}"
    assert total == distinct, f"duplicate rows\n{context}"
    assert not acked_ids - stored_ids, f"acknowledged but not stored\n{context}"
    assert not stored_ids - acked_ids, f"stored but never acknowledged\n{context}"
    assert dlq == 0, f"dead-lettered entries\n{context}"
    unenriched = [
        doc.id
        for doc in docs.values()
        if not (doc.provenance.ner_model and doc.entities and doc.topics)
    ]
    assert not unenriched, f"{len(unenriched)} not enriched, e.g. {unenriched[:5]}\n{context}"
    return figures


def _stop_cleanly(pipeline: Pipeline) -> None:
    codes = pipeline.stop_workers()
    assert codes == {"ingest": 0, "enrich": 0, "sink": 0}, (codes, pipeline.diagnostics())


def test_control_no_fault(pipeline: Pipeline, tmp_path: Path) -> None:
    ingester = pipeline.ingester()
    started = time.monotonic()
    ingester.start()
    drained_at = _wait_drained(pipeline, ingester)
    _verify(
        pipeline,
        ingester,
        scenario="control",
        started=started,
        fault=None,
        recovered_at=None,
        drained_at=drained_at,
        tmp_path=tmp_path,
    )
    assert not pipeline.exits, pipeline.diagnostics()
    _stop_cleanly(pipeline)


@pytest.mark.parametrize(
    ("scenario", "service"), [("a", "enrich"), ("b", "sink")], ids=["a-enrich", "b-sink"]
)
def test_sigkill_worker_mid_batch(
    pipeline: Pipeline, tmp_path: Path, scenario: str, service: str
) -> None:
    stream, group = pipeline.stream_of(service)
    ingester = pipeline.ingester(hold_at=HOLD_AT)
    started = time.monotonic()
    ingester.start()
    fault = _kill_mid_batch(pipeline, ingester, service)
    ingester.resume.set()
    assert fault.acked < N_ARTICLES, "the fault struck after ingestion had finished"
    recovered_at = pipeline.wait_until(
        lambda: not fault.orphans & pipeline.pending_ids(stream, group),
        DRAIN_TIMEOUT_S,
        f"the {len(fault.orphans)} entries the killed {service} held to be acknowledged",
    )
    drained_at = _wait_drained(pipeline, ingester)
    _verify(
        pipeline,
        ingester,
        scenario=scenario,
        started=started,
        fault=fault,
        recovered_at=recovered_at,
        drained_at=drained_at,
        tmp_path=tmp_path,
    )
    assert not pipeline.exits, pipeline.diagnostics()
    _stop_cleanly(pipeline)


def test_redis_restart_mid_ingest(pipeline: Pipeline, tmp_path: Path) -> None:
    ingester = pipeline.ingester(hold_at=HOLD_AT)
    started = time.monotonic()
    ingester.start()
    _wait_for_fault_point(pipeline, ingester)
    fault = Fault(at=pipeline.restart_redis(REDIS_DOWNTIME_S), acked=ingester.acked_count)
    restarted_at = time.monotonic()
    ingester.resume.set()
    assert fault.acked < N_ARTICLES, "the fault struck after ingestion had finished"

    def first_new_article_stored() -> bool:
        _healthy(ingester)
        fresh = ingester.first_acked_after(restarted_at)
        return fresh is not None and pipeline.is_stored(fresh)

    recovered_at = pipeline.wait_until(
        first_new_article_stored, DRAIN_TIMEOUT_S, "an article accepted after the restart"
    )
    drained_at = _wait_drained(pipeline, ingester)
    figures = _verify(
        pipeline,
        ingester,
        scenario="c",
        started=started,
        fault=fault,
        recovered_at=recovered_at,
        drained_at=drained_at,
        tmp_path=tmp_path,
    )
    if figures.unexpected_exits:
        # Compose (restart: unless-stopped) and `newsflow up` restart such a worker,
        # and so did the harness; the scenario passes but the exit is a finding.
        print(f"scenario=c FINDING workers exited: {figures.unexpected_exits}", flush=True)
    _stop_cleanly(pipeline)


# 30 s in `make test`; NEWSFLOW_FAULT_OUTAGE_S=300 for the five-minute outage of #13.
STORAGE_OUTAGE_S = float(os.environ.get("NEWSFLOW_FAULT_OUTAGE_S", "30"))


def test_storage_locked_mid_ingest(pipeline: Pipeline, tmp_path: Path) -> None:
    """d: another process holds the SQLite file locked for ``STORAGE_OUTAGE_S`` (four
    times what claim idle x max deliveries allowed before the worker contract): the
    sink holds its batch and retries it in place, enrichment goes on, nothing is
    dead-lettered, and everything is stored once the lock goes."""
    import sqlite3
    import threading

    ingester = pipeline.ingester(hold_at=HOLD_AT)
    started = time.monotonic()
    ingester.start()
    _wait_for_fault_point(pipeline, ingester)
    locked = threading.Event()
    released: dict[str, float] = {}

    def hold_lock() -> None:
        conn = sqlite3.connect(pipeline.db_path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            locked.set()
            time.sleep(STORAGE_OUTAGE_S)
            released["stored"] = pipeline.stored_count()
            conn.execute("ROLLBACK")
            released["at"] = time.monotonic()
        finally:
            conn.close()

    holder = threading.Thread(target=hold_lock, daemon=True)
    holder.start()
    assert locked.wait(60), "could not lock the SQLite file"
    fault = Fault(at=time.monotonic(), acked=ingester.acked_count)
    ingester.resume.set()
    stored_at_lock = pipeline.stored_count()
    holder.join(STORAGE_OUTAGE_S + 60)
    assert "at" in released
    # Nothing reached storage while it was locked, and nothing was given up on.
    assert released["stored"] == stored_at_lock
    assert pipeline.client.xlen(pipeline.names.dlq) == 0, pipeline.diagnostics()
    drained_at = _wait_drained(pipeline, ingester)
    figures = _verify(
        pipeline,
        ingester,
        scenario="d",
        started=started,
        fault=fault,
        # recovery_s: from the release of the lock until everything is stored.
        recovered_at=fault.at + (drained_at - released["at"]),
        drained_at=drained_at,
        tmp_path=tmp_path,
    )
    assert figures.drained_s is not None
    print(
        f"scenario=d storage_locked_s={STORAGE_OUTAGE_S:.0f} "
        f"stored_within_s_of_release={drained_at - released['at']:.1f}",
        flush=True,
    )
    assert not pipeline.exits, pipeline.diagnostics()
    _stop_cleanly(pipeline)
