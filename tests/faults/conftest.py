"""Fault-injection harness: a real ``redis-server`` with AOF, the three workers as
real processes, and an ingester that streams articles through the HTTP API.

Every scenario gets its own Redis (own AOF directory, own port), its own SQLite
file, key prefix and API port. Workers run as ``newsflow worker <service>``, as
docker compose runs them, with their output in ``<tmp_path>/<service>.log``
(appended to across restarts). A worker that exits without the harness having
stopped it is restarted, as ``restart: unless-stopped`` in docker-compose.yml and
``newsflow up``'s supervisor both do, and the exit is recorded: a scenario
reports it rather than hiding it.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import pytest
import redis

from services.embedded import RedisServer, free_port, start_redis
from shared import codec
from shared.models import EnrichedArticle
from shared.streams import GROUP_ENRICH, GROUP_SINK, StreamNames

REPO = Path(__file__).resolve().parents[2]
NEWSFLOW = [sys.executable, "-m", "services.cli"]
SERVICES = ("sink", "enrich", "ingest")

# How many articles a scenario sends, how, and how fast. The ingester is paced
# so that ingestion is still under way when a fault strikes, as with a live feed.
N_ARTICLES = 5_000
BATCH_SIZE = 100
INGEST_RATE = 100.0  # articles/s
# Entries pending longer than this are reclaimed by a live consumer.
CLAIM_IDLE_MS = 1_500
READY_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 300.0
# How long the ingester keeps retrying one batch (covers a Redis restart).
BATCH_RETRY_S = 120.0
# How long a held ingester waits for the fault before giving up.
HOLD_TIMEOUT_S = 300.0
# `newsflow up` waits this long before its first restart of a dead worker.
RESTART_DELAY_S = 1.0
# A worker's start-up line ("enrich worker ready", "sink ready: consumer ...").
_READY = re.compile(r"\bready\b")

_PEOPLE = (
    "Angela Merkel",
    "Emmanuel Macron",
    "Joe Biden",
    "Narendra Modi",
    "Olaf Scholz",
    "Giorgia Meloni",
    "Pedro Sanchez",
    "Justin Trudeau",
    "Cyril Ramaphosa",
    "Fumio Kishida",
    "Anthony Albanese",
    "Ursula von der Leyen",
    "Antonio Guterres",
    "Christine Lagarde",
    "Jerome Powell",
)
_PLACES = (
    "Berlin",
    "Paris",
    "Washington",
    "New Delhi",
    "Rome",
    "Madrid",
    "Ottawa",
    "Pretoria",
    "Tokyo",
    "Canberra",
    "Brussels",
    "Nairobi",
    "Jakarta",
    "Mexico City",
    "Seoul",
)
_ORGS = (
    "the European Union",
    "the United Nations",
    "the World Bank",
    "NATO",
    "the International Monetary Fund",
    "Siemens",
    "Toyota",
    "Reuters",
    "the World Health Organization",
    "Airbus",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Each sentence names a person, place or organisation and a few lexicon terms, so
# every article gets entities (NER) and at least one topic.
_SENTENCES = (
    "{p} met government ministers and lawmakers in {c} on {d} to discuss the election.",
    "Shares fell in {c} after {o} warned that inflation and interest rates would hurt the economy.",
    "Police in {c} arrested two suspects in a fraud investigation, "
    "and a court charged them, {p} said.",
    "Doctors at a hospital in {c} saw more patients with flu, "
    "and {o} urged people to get a vaccine.",
    "The football team from {c} won the championship final on {d}, and {p} praised the players.",
    "Heavy rain caused a flood near {c}, "
    "and {o} said the weather forecast warned of more rainfall.",
    "Troops and military forces moved to the border after the ceasefire collapsed, "
    "{p} said in {c}.",
    "Teachers and students at a university in {c} protested over school funding, {o} said on {d}.",
    "{o} will hire workers for a new factory outside {c}, creating 900 jobs as unemployment falls.",
    "Scientists in {c} said their research laboratory would publish the study with {o} next year.",
)


def make_article(index: int, tag: str) -> dict[str, Any]:
    """A short (about 60 words), distinct, deterministic ``ArticleIn`` document."""
    rng = random.Random(index)
    person, place, org, day = (
        rng.choice(_PEOPLE),
        rng.choice(_PLACES),
        rng.choice(_ORGS),
        rng.choice(_DAYS),
    )
    sentences = [s.format(p=person, c=place, o=org, d=day) for s in rng.sample(_SENTENCES, 3)]
    body = " ".join(s[0].upper() + s[1:] for s in sentences) + f" Report number {index}."
    return {
        "title": f"{person} in {place}: {org} update {index}",
        "body": body,
        "url": f"https://news.example.test/{tag}/{index}",
        "source": "faults",
        "published_at": "2026-11-27T09:00:00Z",
    }


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(extra, PYTHONUNBUFFERED="1")
    return env


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class Worker:
    """One incarnation of a ``newsflow worker`` process."""

    service: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def consumer(self) -> str:
        """Its consumer name in the group (``shared.streams.consumer_name``)."""
        return f"{self.service}-{socket.gethostname()}-{self.pid}"


@dataclass
class Exit:
    """A worker that exited without the harness asking it to."""

    service: str
    pid: int
    code: int | None
    at: float


@dataclass
class Pipeline:
    """Redis, the three workers and probes of their state, for one scenario."""

    root: Path
    tag: str
    redis_server: RedisServer | None = None
    api_port: int = 0
    workers: dict[str, Worker] = field(default_factory=dict)
    exits: list[Exit] = field(default_factory=list)
    starts: Counter[str] = field(default_factory=Counter)
    ingesters: list[Ingester] = field(default_factory=list)
    _client: redis.Redis | None = None

    def __post_init__(self) -> None:
        self.names = StreamNames(f"{self.tag}:")
        self.redis_dir = self.root / "redis"
        self.db_path = self.root / "newsflow.db"

    # -- processes ------------------------------------------------------------

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def redis_url(self) -> str:
        assert self.redis_server is not None
        return self.redis_server.url

    def env(self) -> dict[str, str]:
        return _env(
            REDIS_URL=self.redis_url,
            DATABASE_URL=f"sqlite:///{self.db_path}",
            NEWSFLOW_PREFIX=self.names.prefix,
            NEWSFLOW_DATA_DIR=str(self.root),
            NEWSFLOW_API_HOST="127.0.0.1",
            NEWSFLOW_API_PORT=str(self.api_port),
            NEWSFLOW_POLLING_INTERVAL_MS="50",
            NEWSFLOW_CLAIM_IDLE_MS=str(CLAIM_IDLE_MS),
            NEWSFLOW_GRACEFUL_TIMEOUT="10",
            NEWSFLOW_NER="on",
            NEWSFLOW_LOG_FORMAT="text",
        )

    def log_path(self, service: str) -> Path:
        return self.root / f"{service}.log"

    def start(self) -> None:
        """Redis with AOF, then sink, enrich and ingest; returns once all are ready."""
        self.redis_server = start_redis(self.redis_dir)
        self.api_port = free_port()
        for service in SERVICES:
            self.start_worker(service)
        self.wait_until(self._api_ready, READY_TIMEOUT_S, "the API to be ready")
        for service in ("sink", "enrich"):
            self.wait_ready(service)

    def start_worker(self, service: str) -> Worker:
        self.starts[service] += 1
        with self.log_path(service).open("ab") as log:
            log.write(f"--- harness: start #{self.starts[service]} of {service}\n".encode())
            log.flush()
            process = subprocess.Popen(
                [*NEWSFLOW, "worker", service],
                env=self.env(),
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(service, process)
        self.workers[service] = worker
        return worker

    def wait_ready(self, service: str, timeout: float = READY_TIMEOUT_S) -> None:
        """Wait for the "ready" line of the service's current process in its log.

        (Redis 6.2 lists a consumer only once it has been delivered something, so
        the group cannot tell that an idle worker is reading.)
        """
        worker = self.workers[service]
        marker = f"--- harness: start #{self.starts[service]} of {service}\n"

        def ready() -> bool:
            text = self.log_path(service).read_text(errors="replace")
            start = text.rfind(marker)
            return start >= 0 and _READY.search(text, start) is not None

        self.wait_until(ready, timeout, f"the {service} worker (pid {worker.pid}) to be ready")

    def stream_of(self, service: str) -> tuple[str, str]:
        """The stream ``service`` reads and its consumer group."""
        return {
            "enrich": (self.names.raw, GROUP_ENRICH),
            "sink": (self.names.enriched, GROUP_SINK),
        }[service]

    def kill(self, service: str) -> Worker:
        """SIGKILL the service's process and reap it; the caller restarts it."""
        worker = self.workers.pop(service)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)
        with self.log_path(service).open("ab") as log:
            log.write(f"--- harness: SIGKILL {service} pid {worker.pid}\n".encode())
        return worker

    def supervise(self) -> None:
        """Restart any worker that exited on its own, as compose / ``newsflow up`` would."""
        for service, worker in list(self.workers.items()):
            code = worker.process.poll()
            if code is None:
                continue
            exit_ = next((e for e in self.exits if e.pid == worker.pid), None)
            if exit_ is None:
                exit_ = Exit(service, worker.pid, code, time.monotonic())
                self.exits.append(exit_)
            if time.monotonic() - exit_.at >= RESTART_DELAY_S:
                self.start_worker(service)

    def stop_workers(self, timeout: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every worker, ingest first; their exit codes."""
        codes: dict[str, int | None] = {}
        for service in ("ingest", "enrich", "sink"):
            worker = self.workers.pop(service, None)
            if worker is None:
                continue
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
            try:
                codes[service] = worker.process.wait(timeout)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
                codes[service] = None
        return codes

    def ingester(self, *, hold_at: int | None = None) -> Ingester:
        """A (not yet started) ingester for this pipeline's API, cancelled at close."""
        ingester = Ingester(self.api, self.tag, hold_at=hold_at)
        self.ingesters.append(ingester)
        return ingester

    def close(self) -> None:
        for ingester in self.ingesters:
            ingester.cancel()
            ingester.join(10)
        self.stop_workers()
        if self._client is not None:
            self._client.close()
        if self.redis_server is not None:
            self.redis_server.stop()

    # -- Redis ----------------------------------------------------------------

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(
                self.redis_url, socket_timeout=5, socket_connect_timeout=2
            )
        return self._client

    def restart_redis(self, downtime_s: float) -> float:
        """SIGTERM redis-server (a clean shutdown that flushes the AOF, what
        ``docker compose restart redis`` does), keep it down ``downtime_s``, then
        start it again on the same port and directory so the AOF is replayed.
        Returns the monotonic time of the SIGTERM."""
        server = self.redis_server
        assert server is not None
        stopped_at = time.monotonic()
        server.process.terminate()
        server.process.wait(30)
        assert server.process.returncode == 0, self._redis_log()
        if self._client is not None:
            self._client.close()
            self._client = None
        time.sleep(downtime_s)
        self.redis_server = start_redis(self.redis_dir, port=server.port, timeout=60)
        return stopped_at

    def consumer_pending(self, stream: str, group: str, consumer: str) -> int:
        summary = self.client.xpending(stream, group)
        for entry in summary.get("consumers") or []:
            if _text(entry["name"]) == consumer:
                return int(entry["pending"])
        return 0

    def pending_ids(self, stream: str, group: str, consumer: str | None = None) -> set[bytes]:
        rows = self.client.xpending_range(
            stream, group, min="-", max="+", count=1_000_000, consumername=consumer
        )
        return {cast("bytes", row["message_id"]) for row in rows}

    def group_state(self, stream: str, group: str) -> dict[str, Any]:
        """``pending`` and ``undelivered`` (entries the group has not read yet)."""
        for info in self.client.xinfo_groups(stream):
            if _text(info["name"]) != group:
                continue
            last = _text(info["last-delivered-id"])
            if info.get("lag") is not None:  # Redis 7
                undelivered = int(info["lag"])
            else:
                after = cast("list[Any]", self.client.xrange(stream, min=f"({last}", count=1))
                undelivered = len(after)
            return {"pending": int(info["pending"]), "undelivered": undelivered}
        return {"pending": None, "undelivered": None}

    def drained(self) -> bool:
        """Both groups have read everything and have nothing pending."""
        try:
            states = [
                self.group_state(self.names.raw, GROUP_ENRICH),
                self.group_state(self.names.enriched, GROUP_SINK),
            ]
        except redis.RedisError:
            return False
        return all(s["pending"] == 0 and s["undelivered"] == 0 for s in states)

    # -- storage ----------------------------------------------------------------

    def _query(self, sql: str, *params: Any) -> list[Any]:
        """Rows of one read-only query on the SQLite file; [] before the sink created it."""
        if not self.db_path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def stored_count(self) -> int:
        rows = self._query("SELECT count(*) FROM articles")
        return int(rows[0][0]) if rows else 0

    def is_stored(self, article_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM articles WHERE id = ?", article_id))

    def stored_documents(self) -> tuple[int, int, dict[str, EnrichedArticle]]:
        """count(*), count(DISTINCT id) and every stored document by id."""
        ((total, distinct),) = self._query("SELECT count(*), count(DISTINCT id) FROM articles")
        docs = {
            row[0]: codec.loads(EnrichedArticle, row[1])
            for row in self._query("SELECT id, doc FROM articles")
        }
        return int(total), int(distinct), docs

    # -- waiting and diagnostics --------------------------------------------------

    def _api_ready(self) -> bool:
        try:
            return httpx.get(f"{self.api}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll ``predicate`` (supervising workers meanwhile); the monotonic time it held."""
        deadline = time.monotonic() + timeout
        while True:
            self.supervise()
            if predicate():
                return time.monotonic()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout:.0f} s waiting for {what}\n{self.diagnostics()}"
                )
            time.sleep(0.1)

    def _redis_log(self) -> str:
        path = self.redis_dir / "redis.log"
        return path.read_text(errors="replace")[-1500:] if path.exists() else ""

    def diagnostics(self, tail_chars: int = 3000) -> str:
        """The pipeline's state and the tail of every log, for an assertion message."""
        lines = [f"stored={self.stored_count()} exits={self.exits}"]
        for stream, group in ((self.names.raw, GROUP_ENRICH), (self.names.enriched, GROUP_SINK)):
            try:
                state = self.group_state(stream, group)
                consumers = self.client.xpending(stream, group).get("consumers")
                lines.append(f"{stream} group {group}: {state} consumers={consumers}")
            except redis.RedisError as exc:
                lines.append(f"{stream} group {group}: {exc!r}")
        try:
            lines.append(f"dlq={self.client.xlen(self.names.dlq)}")
        except redis.RedisError as exc:
            lines.append(f"dlq: {exc!r}")
        for service in SERVICES:
            path = self.log_path(service)
            text = path.read_text(errors="replace")[-tail_chars:] if path.exists() else ""
            lines.append(f"----- {service}.log (tail) -----\n{text}")
        lines.append(f"----- redis.log (tail) -----\n{self._redis_log()}")
        return "\n".join(lines)


class Ingester(threading.Thread):
    """Sends ``N_ARTICLES`` articles through ``POST /v1/articles/batch``, paced.

    A batch is resent on a transport error (ambiguous: part of it may be in
    Redis; a resent article comes back "duplicate") and on 503/429 (the API says
    nothing was accepted). Any other answer, or a rejected article, stops the
    ingester with ``error`` set.
    """

    def __init__(
        self,
        api: str,
        tag: str,
        *,
        n: int = N_ARTICLES,
        rate: float = INGEST_RATE,
        hold_at: int | None = None,
    ):
        super().__init__(name=f"ingester-{tag}", daemon=True)
        self.api = api
        self.articles = [make_article(i, tag) for i in range(n)]
        self.rate = rate
        # With ``hold_at``, sending pauses before that article until ``resume`` is
        # set, so a fault strikes mid-ingest however slow the machine is.
        self.hold_at = hold_at
        self.resume = threading.Event()
        self.cancelled = threading.Event()
        self.acked: dict[int, str] = {}  # article index -> id the API acknowledged
        self.acked_at: dict[int, float] = {}  # article index -> monotonic time of its ack
        self.statuses: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.error: Exception | None = None
        self.finished_at: float | None = None
        self._lock = threading.Lock()

    @property
    def acked_count(self) -> int:
        with self._lock:
            return len(self.acked)

    def first_acked_after(self, moment: float) -> str | None:
        """The id of the first article acknowledged after ``moment`` (monotonic)."""
        with self._lock:
            later = [(t, i) for i, t in self.acked_at.items() if t > moment]
            return self.acked[min(later)[1]] if later else None

    def cancel(self) -> None:
        """Stop sending (the scenario is over, or failed)."""
        self.cancelled.set()
        self.resume.set()

    def run(self) -> None:
        try:
            with httpx.Client(timeout=30) as http:
                next_at = time.monotonic()
                for first in range(0, len(self.articles), BATCH_SIZE):
                    if first == self.hold_at:
                        if not self.resume.wait(HOLD_TIMEOUT_S):
                            raise AssertionError(f"held at article {first}: no fault came")
                        next_at = max(next_at, time.monotonic())
                    if self.cancelled.wait(max(0.0, next_at - time.monotonic())):
                        return
                    self._send(http, first, self.articles[first : first + BATCH_SIZE])
                    next_at += BATCH_SIZE / self.rate
        # Any failure is handed to the test thread, which raises it with context.
        except Exception as exc:  # noqa: BLE001
            self.error = exc
        finally:
            self.finished_at = time.monotonic()

    def _send(self, http: httpx.Client, first: int, batch: list[dict[str, Any]]) -> None:
        body = b"\n".join(orjson.dumps(a) for a in batch)
        deadline = time.monotonic() + BATCH_RETRY_S
        while True:
            try:
                response = http.post(
                    f"{self.api}/v1/articles/batch",
                    content=body,
                    headers={"content-type": "application/x-ndjson"},
                )
            except httpx.TransportError as exc:
                self.retries[type(exc).__name__] += 1
            else:
                if response.status_code == 200:
                    self._record(first, response.json()["results"])
                    return
                if response.status_code not in (429, 503):
                    raise AssertionError(
                        f"batch at {first}: HTTP {response.status_code} {response.text[:500]}"
                    )
                self.retries[str(response.status_code)] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"batch at {first} not accepted in {BATCH_RETRY_S} s")
            if self.cancelled.wait(0.5):
                raise AssertionError(f"cancelled while resending the batch at {first}")

    def _record(self, first: int, results: list[dict[str, Any]]) -> None:
        with self._lock:
            for result in results:
                status = result["status"]
                self.statuses[status] += 1
                if status not in ("accepted", "duplicate"):
                    raise AssertionError(f"article {first + result['index']}: {result}")
                index = first + result["index"]
                self.acked[index] = result["id"]
                self.acked_at.setdefault(index, time.monotonic())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: fault injection on real processes and Redis (make test-faults)"
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    """A started pipeline on its own Redis; everything is stopped afterwards."""
    tag = f"f{os.getpid()}{time.monotonic_ns() % 10**6}"
    stack = Pipeline(tmp_path, tag)
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
