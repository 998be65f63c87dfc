"""What a stream worker tells its operator: Prometheus metrics, ``/healthz``, ``/readyz``.

Every enrich and sink process serves a small HTTP app in its own event loop
(uvicorn, started and stopped by ``services.runtime.worker_app``):

- ``GET /healthz``: 200 ``{"status": "ok"}`` while the process runs.
- ``GET /readyz``: 200 ``{"status": "ready"}`` when start-up is done (the enrich
  model is loaded, storage is open), the subscription runs, Redis answers, this
  worker's consumer group exists and its lag (the stream's length where Redis
  reports no lag) is at most ``NEWSFLOW_READY_MAX_LAG``; else 503 ``{"status": "not ready",
  "problems": [...]}``, the shape of the ingest API's ``/readyz``.
- ``GET /metrics``: this process's counters and histograms (its own registry,
  no global state), plus gauges read from Redis at scrape time for its own
  stream and group and the dead-letter stream.

Handlers report what only they know (dead letters, the moment a batch is
committed) through :func:`note_dead_letters` and :func:`observe_end_to_end`: the
batch that calls them is found in a context variable, and its figures count
only if the batch succeeds (a retried batch is not counted twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import socket
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import redis.asyncio as aioredis
import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.api_errors import RETRY_AFTER, key_matches, unauthorized

log = logging.getLogger(__name__)

# Entries per batch: the configured sizes are 32 (enrich) and 500 (sink, inbox).
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)
# Seconds a batch takes: a few ms (sink) to tens of seconds (NER of a big batch).
BATCH_SECONDS_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)
# Seconds from an article's received_at to the commit of the batch that stored it.
END_TO_END_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# A scrape or readiness probe waits at most this long for Redis.
REDIS_PROBE_TIMEOUT_S = 2.0

Outcome = Literal["ok", "error"]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --- what a handler reports about its batch ---------------------------------------------


@dataclass
class BatchReport:
    """Figures of one batch, counted when the batch succeeds."""

    dead_letters: Tally[str] = field(default_factory=Tally)
    end_to_end: list[float] = field(default_factory=list)


_CURRENT: contextvars.ContextVar[BatchReport | None] = contextvars.ContextVar(
    "newsflow_batch_report", default=None
)


@contextlib.contextmanager
def batch_report() -> Iterator[BatchReport]:
    """Collect what the code running inside reports about the current batch."""
    report = BatchReport()
    token = _CURRENT.set(report)
    try:
        yield report
    finally:
        _CURRENT.reset(token)


def note_dead_letters(count: int, reason: str = "error") -> None:
    """Count ``count`` entries of the current batch sent to the dead-letter stream."""
    report = _CURRENT.get()
    if report is not None and count:
        report.dead_letters[reason] += count


def observe_end_to_end(received: Iterable[datetime], now: float | None = None) -> None:
    """Record, for each article of the current batch, the time since its ``received_at``.

    Call it right after the batch's output is committed.
    """
    report = _CURRENT.get()
    if report is None:
        return
    at = time.time() if now is None else now
    report.end_to_end.extend(max(0.0, at - moment.timestamp()) for moment in received)


# --- this process's metrics -------------------------------------------------------------


class WorkerMetrics:
    """Counters and histograms of one worker process, in their own registry."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.registry = CollectorRegistry()
        r = self.registry
        self.processed = Counter(
            "newsflow_entries_processed",
            "Stream entries handled and acknowledged (new and reclaimed), by stage.",
            ["stage"],
            registry=r,
        )
        self.failed = Counter(
            "newsflow_entries_failed",
            "Stream entries in batches that failed (left pending for a retry), by stage.",
            ["stage"],
            registry=r,
        )
        self.failed_batches = Counter(
            "newsflow_batches_failed",
            "Batches whose processing raised (left pending for a retry), by stage.",
            ["stage"],
            registry=r,
        )
        self.reclaimed = Counter(
            "newsflow_entries_reclaimed",
            "Entries claimed from the pending list of a dead or stuck consumer, by stage.",
            ["stage"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "newsflow_entries_dead_lettered",
            "Entries sent to the dead-letter stream by this process, by stage and reason "
            "(invalid, max_deliveries, error).",
            ["stage", "reason"],
            registry=r,
        )
        self.batch_size = Histogram(
            "newsflow_batch_size",
            "Entries per processed batch, by stage and outcome (ok, error).",
            ["stage", "outcome"],
            buckets=BATCH_SIZE_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "newsflow_batch_duration_seconds",
            "Time to process one batch, by stage and outcome (ok, error).",
            ["stage", "outcome"],
            buckets=BATCH_SECONDS_BUCKETS,
            registry=r,
        )
        self.end_to_end = Histogram(
            "newsflow_end_to_end_latency_seconds",
            "Seconds from an article's received_at to the commit of the batch that "
            "stored it (sink).",
            ["stage"],
            buckets=END_TO_END_BUCKETS,
            registry=r,
        )
        self.holding = Gauge(
            "newsflow_holding_seconds",
            "Seconds this worker has been holding a batch whose output cannot be written "
            "(storage or Redis away, RetryableError); 0 when it is not holding.",
            ["stage"],
            registry=r,
        )
        self.retries = Counter(
            "newsflow_batch_retries",
            "Retries in place of a held batch (RetryableError), by stage.",
            ["stage"],
            registry=r,
        )
        self.info = Gauge(
            "newsflow_worker_info",
            "This worker: stage, consumer name, stream and group (always 1).",
            ["stage", "consumer", "stream", "group"],
            registry=r,
        )
        for counter in (self.processed, self.failed, self.failed_batches, self.reclaimed):
            counter.labels(stage=stage)
        self.holding.labels(stage=stage).set(0)
        self.retries.labels(stage=stage)
        for reason in ("invalid", "max_deliveries", "permanent"):
            self.dead_lettered.labels(stage=stage, reason=reason)
        for outcome in ("ok", "error"):
            self.batch_size.labels(stage=stage, outcome=outcome)
            self.batch_seconds.labels(stage=stage, outcome=outcome)

    def describe(self, *, consumer: str, stream: str, group: str) -> None:
        self.info.labels(stage=self.stage, consumer=consumer, stream=stream, group=group).set(1)

    def batch_done(
        self, size: int, seconds: float, outcome: Outcome, report: BatchReport | None = None
    ) -> None:
        """Record one processed batch; a successful one counts what it reported."""
        self.batch_size.labels(stage=self.stage, outcome=outcome).observe(size)
        self.batch_seconds.labels(stage=self.stage, outcome=outcome).observe(seconds)
        if outcome == "error":
            self.failed.labels(stage=self.stage).inc(size)
            self.failed_batches.labels(stage=self.stage).inc()
            return
        self.processed.labels(stage=self.stage).inc(size)
        if report is not None:
            for reason, count in report.dead_letters.items():
                self.dead_letter(count, reason)
            if report.end_to_end:
                histogram = self.end_to_end.labels(stage=self.stage)
                for seconds_ in report.end_to_end:
                    histogram.observe(seconds_)

    def dead_letter(self, count: int, reason: str) -> None:
        if count:
            self.dead_lettered.labels(stage=self.stage, reason=reason).inc(count)

    def reclaim(self, count: int) -> None:
        if count:
            self.reclaimed.labels(stage=self.stage).inc(count)

    def value(self, name: str, **labels: str) -> float:
        """One sample's value (0 when absent), for tests and logs."""
        found = self.registry.get_sample_value(name, {"stage": self.stage, **labels})
        return 0.0 if found is None else found


# --- read from Redis at scrape time -----------------------------------------------------


@dataclass
class GroupState:
    """One consumer group as XINFO GROUPS reports it.

    ``lag`` is None where Redis cannot say (before Redis 7, or when entries past the
    group's position were deleted); after a restart Redis may over-estimate it, so it
    is never more than the stream's ``length``.
    """

    exists: bool
    pending: int = 0
    lag: int | None = None
    consumers: int = 0
    length: int = 0


async def group_state(client: aioredis.Redis, stream: str, group: str) -> GroupState:
    try:
        infos = await client.xinfo_groups(stream)
    except ResponseError as exc:
        if "no such key" in str(exc).lower():
            return GroupState(exists=False)
        raise
    for info in infos:
        if _text(info["name"]) == group:
            lag = info.get("lag")
            length = int(await client.xlen(stream))
            return GroupState(
                exists=True,
                pending=int(info["pending"]),
                lag=None if lag is None else min(int(lag), length),
                consumers=int(info["consumers"]),
                length=length,
            )
    return GroupState(exists=False)


async def redis_metrics(
    client: aioredis.Redis, streams: Sequence[str], dlq: str, *, group: str | None = None
) -> bytes:
    """Gauges of ``streams``, their consumer groups (only ``group`` when given) and the
    DLQ, read now (Prometheus text); ``newsflow_redis_up`` 0 when Redis does not answer."""
    registry = CollectorRegistry()
    up = Gauge("newsflow_redis_up", "1 if Redis answered this scrape, else 0.", registry=registry)
    length = Gauge("newsflow_stream_length", "Entries in a stream.", ["stream"], registry=registry)
    pending = Gauge(
        "newsflow_group_pending",
        "Entries delivered to a consumer group and not yet acknowledged.",
        ["stream", "group"],
        registry=registry,
    )
    lag = Gauge(
        "newsflow_group_lag",
        "Entries not yet delivered to a consumer group (Redis 7+).",
        ["stream", "group"],
        registry=registry,
    )
    consumers = Gauge(
        "newsflow_group_consumers", "Consumers in a group.", ["stream", "group"], registry=registry
    )
    dlq_size = Gauge(
        "newsflow_dlq_entries", "Entries in the dead-letter stream.", registry=registry
    )

    async def read() -> None:
        for stream in streams:
            length.labels(stream=stream).set(await client.xlen(stream))
            try:
                infos = await client.xinfo_groups(stream)
            except ResponseError:  # the stream does not exist yet
                infos = []
            for info in infos:
                name = _text(info["name"])
                if group is not None and name != group:
                    continue
                labels = {"stream": stream, "group": name}
                pending.labels(**labels).set(int(info["pending"]))
                consumers.labels(**labels).set(int(info["consumers"]))
                if info.get("lag") is not None:
                    lag.labels(**labels).set(int(info["lag"]))
        dlq_size.set(await client.xlen(dlq))

    try:
        await asyncio.wait_for(read(), REDIS_PROBE_TIMEOUT_S)
        up.set(1)
    except (RedisConnectionError, RedisTimeoutError, TimeoutError, OSError) as exc:
        log.debug("metrics scrape without Redis figures: %s", exc)
        registry = CollectorRegistry()
        up = Gauge(
            "newsflow_redis_up", "1 if Redis answered this scrape, else 0.", registry=registry
        )
        up.set(0)
    body: bytes = generate_latest(registry)
    return body


# --- readiness ----------------------------------------------------------------------------


def readiness_response(problems: Sequence[str]) -> JSONResponse:
    """``/readyz``'s answer, the same on every service: 200 ready, or 503 with the problems."""
    if problems:
        return JSONResponse(
            {"status": "not ready", "problems": list(problems)},
            status_code=503,
            headers=RETRY_AFTER,
        )
    return JSONResponse({"status": "ready"})


Phase = Literal["starting", "running", "stopping"]
Check = Callable[[], str | None]


@dataclass
class WorkerProbe:
    """What ``/readyz`` looks at; ``phase`` is moved along by ``worker_app``."""

    service: str
    stream: str
    group: str
    client: aioredis.Redis
    max_lag: int
    checks: Sequence[Check] = ()
    phase: Phase = "starting"

    async def problems(self) -> list[str]:
        """Why this worker is not ready; empty when it is."""
        found: list[str] = []
        if self.phase == "starting":
            found.append(f"{self.service} is starting (start-up not finished)")
        elif self.phase == "stopping":
            found.append(f"{self.service} is stopping")
        for check in self.checks:
            try:
                problem = check()
            except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                found.append(problem)
        try:
            await asyncio.wait_for(self._redis_problems(found), REDIS_PROBE_TIMEOUT_S)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            found.append(f"Redis unreachable: {exc}")
        except TimeoutError:
            found.append(f"Redis unreachable: no answer in {REDIS_PROBE_TIMEOUT_S:.0f} s")
        except Exception as exc:  # noqa: BLE001 - same
            found.append(f"{type(exc).__name__}: {exc}")
        return found

    async def _redis_problems(self, found: list[str]) -> None:
        await self.client.ping()
        state = await group_state(self.client, self.stream, self.group)
        if not state.exists:
            found.append(f"group {self.group} missing on {self.stream}")
            return
        if state.lag is not None:
            if state.lag > self.max_lag:
                found.append(
                    f"group {self.group} on {self.stream} lags {state.lag} entries; "
                    f"the limit is {self.max_lag} (NEWSFLOW_READY_MAX_LAG)"
                )
        elif state.length > self.max_lag:
            # Redis cannot say how far behind the group is: the stream (trimmed below
            # what was acknowledged) holds at most that many entries still to do.
            found.append(
                f"group {self.group} on {self.stream} may lag up to {state.length} entries "
                f"(Redis reports no lag; {state.pending} pending); "
                f"the limit is {self.max_lag} (NEWSFLOW_READY_MAX_LAG)"
            )


# --- the HTTP app and its server ----------------------------------------------------------


def build_http_app(
    probe: WorkerProbe,
    metrics: WorkerMetrics,
    *,
    dlq: str,
    api_key: str | None = None,
) -> Starlette:
    """``/healthz``, ``/readyz`` and ``/metrics`` (behind ``api_key`` when set)."""

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        return readiness_response(await probe.problems())

    async def metrics_endpoint(request: Request) -> Response:
        if api_key and not key_matches(request, api_key):
            return unauthorized().response()
        body = generate_latest(metrics.registry) + await redis_metrics(
            probe.client, [probe.stream], dlq, group=probe.group
        )
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ]
    )


class _Server(uvicorn.Server):
    """uvicorn inside a process whose signals belong to someone else (the worker app)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class HttpServer:
    """An ASGI app served by uvicorn as a task of the running event loop."""

    def __init__(self, app: Any, host: str, port: int, name: str) -> None:
        self.app, self.host, self.port, self.name = app, host, port, name
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str | None:
        """``http://host:port`` once listening (the real port when 0 was asked for)."""
        if self._server is None:
            return None
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
        return f"http://{host}:{self.port}"

    async def start(self) -> bool:
        """Listen; False (and a logged error) when the address cannot be bound."""
        try:
            sock = _bind(self.host, self.port)
        except OSError as exc:
            log.error(
                "%s: cannot serve /healthz, /readyz, /metrics on %s:%d (%s); running without them",
                self.name,
                self.host,
                self.port,
                exc,
            )
            return False
        self.port = sock.getsockname()[1]
        # uvicorn's "Started server process" lines would read as if the worker restarted.
        quiet = logging.getLogger("uvicorn.error")
        if quiet.level == logging.NOTSET and not log.isEnabledFor(logging.DEBUG):
            quiet.setLevel(logging.WARNING)
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve([sock]), name=f"{self.name}-http")
        # uvicorn has a flag for this, not an event.
        while not self._server.started and not self._task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if self._task.done():
            error = None if self._task.cancelled() else self._task.exception()
            log.error("%s: the health and metrics server stopped at start: %r", self.name, error)
            self._server = None
            return False
        log.info("%s: health and metrics on %s (/healthz /readyz /metrics)", self.name, self.url)
        return True

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 5.0)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
