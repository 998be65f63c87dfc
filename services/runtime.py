"""What every worker process shares: logging, the broker, batch stream subscriptions.

Subscriptions read raw stream entries (the ``json`` field of each) rather than
letting FastStream decode bodies: a body that fails to decode must go to the
dead-letter stream with its entry id, not stay pending forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import orjson
import redis.asyncio as aioredis
from faststream import AckPolicy, FastStream
from faststream.message import StreamMessage
from faststream.redis import RedisBroker, RedisClusterBroker, StreamSub
from pydantic import BaseModel, ValidationError
from redis.exceptions import BusyLoadingError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.observability import (
    HttpServer,
    WorkerMetrics,
    WorkerProbe,
    batch_report,
    build_http_app,
    note_dead_letters,
)
from shared import worker_status
from shared.codec import entry_json, loads
from shared.errors import PermanentError, RetryableError
from shared.models import DeadLetter
from shared.redis import add_dead_letter, connect, dead_letter, ensure_pipeline_groups
from shared.settings import Settings
from shared.streams import StreamNames, consumer_name

log = logging.getLogger(__name__)

Entry = tuple[bytes, Mapping[bytes, bytes]]


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


def configure_logging(settings: Settings, service: str) -> None:
    """Text on a terminal, JSON otherwise; FastStream's per-message lines kept quiet."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    if use_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # FastStream writes "Received"/"Processed" for every message at INFO; one line
    # per batch from our handlers is enough, so its loggers start at WARNING.
    # FastStream's own logger has a coloured handler and does not propagate: route it
    # through ours so its warnings are JSON too.
    for name in ("faststream", "faststream.access", "faststream.access.redis"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    if settings.log_level != "DEBUG":
        for name in ("faststream", "faststream.access", "faststream.access.redis", "httpx"):
            logging.getLogger(name).setLevel(logging.WARNING)


def make_broker(settings: Settings, url: str) -> RedisBroker:
    """FastStream's broker for ``url``: ``RedisClusterBroker`` with NEWSFLOW_REDIS_CLUSTER."""
    broker_class = RedisClusterBroker if settings.redis_cluster else RedisBroker
    return broker_class(
        url,
        graceful_timeout=settings.graceful_timeout,
        logger=logging.getLogger("faststream.access.redis"),
    )


async def keep_raw(
    msg: Any, original: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream parser: build the message without decoding any entry.

    FastStream's batch parser JSON-encodes every entry's fields and raises on bytes
    that are not UTF-8, which would leave a whole batch of good entries pending for
    one bad one. Entries are decoded by the handler, which dead-letters the bad ones.
    """
    message = await original({**msg, "data": [{} for _ in msg["data"]]})
    message.raw_message = msg
    return message


M = TypeVar("M", bound=BaseModel)


def decode_entries(
    entries: Sequence[Entry], model: type[M], *, service: str, stream: str, group: str
) -> tuple[list[tuple[bytes, M]], list[DeadLetter]]:
    """Each entry's ``json`` field as ``model``; a dead letter for each that is not one."""
    good: list[tuple[bytes, M]] = []
    bad: list[DeadLetter] = []
    for entry_id, fields in entries:
        payload = entry_json(fields)
        try:
            if payload is None:
                raise ValueError("entry has no 'json' field")
            good.append((entry_id, loads(model, payload)))
        except (ValidationError, ValueError) as exc:
            bad.append(
                dead_letter(
                    service=service,
                    stream=stream,
                    group=group,
                    entry_id=entry_id,
                    fields=fields,
                    error=exc,
                    error_class="InvalidMessage",
                )
            )
    note_dead_letters(len(bad), "invalid")
    return good, bad


async def raw_entries(msg: StreamMessage[Any]) -> list[Entry]:
    """FastStream decoder: the batch as (entry id, fields) pairs, undecoded."""
    raw = msg.raw_message
    return list(zip(raw["message_ids"], raw["data"], strict=True))


Process = Callable[[list[Entry]], Awaitable[None]]

# How many recent failure reasons a consumer remembers, to put the last error of an
# entry into its dead letter when it runs out of deliveries.
_ERRORS_KEPT = 10_000
# Failures that hold a batch in place rather than fail it: the output cannot be written
# for now (storage busy or away, Redis away); the input is fine.
_HOLD_ERRORS = (RetryableError, RedisConnectionError, RedisTimeoutError, BusyLoadingError)
# Redis error replies that say the server or its data is not fit to write to now, not
# that the entry is bad: a key of newsflow's holding the wrong type (someone wrote to
# it), out of memory, a read-only replica, failed persistence, missing permission, a
# cluster in trouble. An operator fixes them; retrying in place loses nothing, while
# failing the batch would dead-letter every article until then.
_HOLD_REPLIES = (
    "WRONGTYPE",
    "OOM",
    "READONLY",
    "MISCONF",
    "NOPERM",
    "MASTERDOWN",
    "CLUSTERDOWN",
    "TRYAGAIN",
    "BUSY ",
)


def _holds(exc: BaseException) -> bool:
    """Whether ``exc`` holds a batch in place (see ``BatchConsumer._run``)."""
    if isinstance(exc, _HOLD_ERRORS):
        return True
    return isinstance(exc, ResponseError) and str(exc).startswith(_HOLD_REPLIES)


_FIRST_RETRY_S = 0.5
# How long the end of a batch waits for its heartbeat's last XCLAIM to come back.
_HEARTBEAT_STOP_S = 10.0


class _SplitFailedError(Exception):
    """Some entries of a batch, processed one at a time, failed and stay pending."""


def _parse_id(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _next_id(entry_id: bytes | str) -> str:
    ms, seq = _parse_id(entry_id)
    return f"{ms}-{seq + 1}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def wait_for_redis(client: aioredis.Redis, what: str) -> None:
    """Block until Redis answers, logging and backing off (capped at 5 s) meanwhile."""
    delay = 0.2
    while True:
        try:
            await client.ping()
            return
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("%s: Redis unreachable (%s); retrying in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class BatchConsumer:
    """One consumer group's reading of one stream, with recovery and retention.

    New entries arrive in batches through a FastStream subscription and are acked
    when ``process`` returns (an exception leaves them pending). A background loop
    claims entries pending longer than ``claim_idle_ms`` (a dead or stuck consumer,
    or a failed batch), sends those delivered more than ``max_deliveries`` times to
    the dead-letter stream, processes the rest and acks them; it also trims the
    stream below what every group has acknowledged and removes stale consumers.
    """

    def __init__(
        self,
        *,
        service: str,
        stream: str,
        group: str,
        batch_size: int,
        settings: Settings,
        client: aioredis.Redis,
        process: Process,
        on_group_lost: Callable[[], None] | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.service, self.stream, self.group = service, stream, group
        self.on_group_lost = on_group_lost or _stop_this_process
        self.batch_size = batch_size
        self.settings = settings
        self.client = client
        self.process = process
        self.consumer = consumer_name(service)
        self.names = StreamNames(settings.prefix)
        self.counts: Counter[str] = Counter()
        self.metrics = metrics or WorkerMetrics(service)
        self.metrics.describe(consumer=self.consumer, stream=stream, group=group)
        self._subscriber: Any = None
        self._status_task: asyncio.Task[None] | None = None
        self._errors: OrderedDict[bytes, str] = OrderedDict()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._interval = min(self.settings.claim_idle_ms / 2000, 5.0)
        # (since, reason) while a batch is held through a passing failure.
        self._holding: tuple[float, str] | None = None

    # --- new entries (FastStream) ---------------------------------------------------------

    def subscribe(self, broker: RedisBroker) -> None:
        """Register the batch subscription for new entries on ``broker``."""
        sub = StreamSub(
            self.stream,
            group=self.group,
            consumer=self.consumer,
            batch=True,
            max_records=self.batch_size,
            polling_interval=self.settings.polling_interval_ms,
        )

        subscriber = broker.subscriber(
            stream=sub,
            parser=keep_raw,
            decoder=raw_entries,
            ack_policy=AckPolicy.REJECT_ON_ERROR,
            title=f"{self.service}:{self.stream}",
        )

        self._subscriber = subscriber

        @subscriber
        async def handle(entries: list[Any]) -> None:
            await self._run(entries)
            self.counts["entries"] += len(entries)
            self.counts["batches"] += 1

    def problem(self) -> str | None:
        """Why this consumer is not working, once started; None when it is (or not started)."""
        if self._task is None or self._stop.is_set():
            return None
        if self._holding is not None:
            since, reason = self._holding
            return (
                f"{self.service}: holding a batch for {time.monotonic() - since:.0f} s "
                f"({reason}); reading nothing new until it can be written"
            )
        if self._task.done():
            return f"{self.service}: the recovery loop on {self.stream} has stopped"
        if self._subscriber is not None and not getattr(self._subscriber, "running", True):
            return f"{self.service}: the subscription to {self.stream} is not running"
        return None

    async def _run(self, entries: list[Entry]) -> None:
        """Process ``entries`` under the worker contract (DESIGN, "Worker contract").

        ``RetryableError`` (storage busy or away) and a lost Redis connection hold the
        batch: it is retried in place with capped backoff while its claim is kept
        alive, and nothing new is read meanwhile. ``PermanentError`` dead-letters the
        entry that raised it at once (a batch is split to find it; the entries that
        succeed alone are acknowledged). Any other exception leaves the batch pending
        for the bounded retry of the recovery loop. Returns normally when every entry
        is processed or dead-lettered; raises when some are left pending.
        """
        done = asyncio.Event()
        heartbeat = asyncio.create_task(self._keep_claimed([e[0] for e in entries], done))
        try:
            try:
                await self._process_holding(entries)
            except PermanentError as exc:
                if len(entries) == 1:
                    await self._dead_letter_permanent(entries[0], exc)
                    return
                await self._split(entries)
        finally:
            # Stopped by an event, not by cancel(): redis-py can swallow a
            # cancellation that lands in a command, and a heartbeat that never ends
            # would hold this batch, and the stage, for ever.
            done.set()
            await asyncio.wait({heartbeat}, timeout=_HEARTBEAT_STOP_S)
            if not heartbeat.done():
                heartbeat.cancel()

    async def _process_holding(self, entries: list[Entry]) -> None:
        """``process`` the batch, holding it through passing failures (see ``_run``)."""
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                with batch_report() as report:
                    await self.process(entries)
            except PermanentError:
                self.metrics.batch_done(len(entries), time.perf_counter() - started, "error")
                self._release_hold()
                raise
            except Exception as exc:
                self.metrics.batch_done(len(entries), time.perf_counter() - started, "error")
                if not _holds(exc):
                    self._release_hold()
                elif not self._stop.is_set():
                    wait = min(self.settings.retry_max_backoff_s, _FIRST_RETRY_S * 2**attempt)
                    self._hold(entries, exc, attempt, wait)
                    attempt += 1
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), wait)
                    continue
                self._failed(entries, exc)
                raise
            self.metrics.batch_done(len(entries), time.perf_counter() - started, "ok", report)
            self._release_hold()
            return

    async def _split(self, entries: list[Entry]) -> None:
        """One entry at a time, after a ``PermanentError`` in a batch: the guilty entry
        is dead-lettered, the good ones acknowledged, the rest left pending."""
        left_pending = 0
        for entry in entries:
            try:
                await self._process_holding([entry])
            except PermanentError as exc:
                await self._dead_letter_permanent(entry, exc)
                continue
            except Exception:  # noqa: BLE001 - recorded by _process_holding; stays pending
                left_pending += 1
                continue
            await self.client.xack(self.stream, self.group, entry[0])
        if left_pending:
            raise _SplitFailedError(f"{left_pending} of {len(entries)} entries left pending")

    def _failed(self, entries: list[Entry], exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        for entry_id, _ in entries:
            self._errors[entry_id] = reason
            self._errors.move_to_end(entry_id)
        while len(self._errors) > _ERRORS_KEPT:
            self._errors.popitem(last=False)
        self.counts["failed_batches"] += 1
        log.warning(
            "%s: batch of %d failed (%s); left pending for retry",
            self.service,
            len(entries),
            reason,
        )

    def _hold(self, entries: list[Entry], exc: BaseException, attempt: int, wait: float) -> None:
        now = time.monotonic()
        if self._holding is None:
            self._holding = (now, f"{type(exc).__name__}: {exc}")
            log.warning(
                "%s: holding a batch of %d: %s; retrying in place, reading nothing new",
                self.service,
                len(entries),
                self._holding[1],
            )
        else:
            self._holding = (self._holding[0], f"{type(exc).__name__}: {exc}")
            log.info(
                "%s: still holding (%.0f s, try %d): %s; next try in %.1f s",
                self.service,
                now - self._holding[0],
                attempt + 1,
                self._holding[1],
                wait,
            )
        self.counts["retries"] += 1
        self.metrics.retries.labels(stage=self.service).inc()
        self.metrics.holding.labels(stage=self.service).set(now - self._holding[0])

    def _release_hold(self) -> None:
        if self._holding is None:
            return
        held = time.monotonic() - self._holding[0]
        self._holding = None
        self.metrics.holding.labels(stage=self.service).set(0)
        log.warning("%s: resumed after holding a batch for %.1f s", self.service, held)

    def holding_seconds(self) -> float:
        """How long the current batch has been held (0 when none is)."""
        return 0.0 if self._holding is None else time.monotonic() - self._holding[0]

    async def _dead_letter_permanent(self, entry: Entry, exc: PermanentError) -> None:
        entry_id, fields = entry
        letter = dead_letter(
            service=self.service,
            stream=self.stream,
            group=self.group,
            entry_id=entry_id,
            fields=fields,
            delivery_count=1,
            error_class=type(exc).__name__,
            error=str(exc),
        )
        async with self.client.pipeline(transaction=True) as pipe:
            add_dead_letter(pipe, self.names, letter)
            pipe.xack(self.stream, self.group, entry_id)
            await pipe.execute()
        self.counts["dead_letters"] += 1
        self.metrics.dead_letter(1, "permanent")
        log.warning(
            "%s: entry %s dead-lettered at once (%s: %s)",
            self.service,
            _text(entry_id),
            type(exc).__name__,
            exc,
        )

    async def _keep_claimed(self, ids: list[Any], done: asyncio.Event) -> None:
        """Until ``done``, reset the batch's entries' idle time (XCLAIM JUSTID).

        A slow batch (long articles, a busy machine, a storage outage) then never
        looks abandoned, so no consumer claims it, processes it twice or counts a
        delivery against it.
        """
        period = self.settings.claim_idle_ms / 3000
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), period)
            if done.is_set():
                return
            try:
                await self.client.xclaim(
                    self.stream,
                    self.group,
                    self.consumer,
                    min_idle_time=0,
                    message_ids=ids,
                    justid=True,
                )
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("%s: could not refresh a slow batch's claim: %s", self.service, exc)

    # --- recovery loop --------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"{self.service}-reclaim")
        self._status_task = asyncio.create_task(
            self._publish_status(), name=f"{self.service}-status"
        )

    async def _publish_status(self) -> None:
        """Write this worker's status to Redis every few seconds (shared.worker_status),
        on a task of its own: the recovery loop may itself be holding a batch."""
        every = min(self._interval, worker_status.TTL_S / 3)
        while not self._stop.is_set():
            status = worker_status.status_now(self.service, self.consumer, self._holding)
            try:
                await worker_status.publish(self.client, self.names, status)
            except Exception as exc:  # noqa: BLE001 - a status is never worth a failure
                log.debug("%s: status not published: %s", self.service, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every)

    async def stop(self) -> None:
        """Stop claiming; a sweep in progress gets the graceful timeout to finish."""
        self._stop.set()
        if self._status_task is not None:
            await asyncio.wait({self._status_task}, timeout=5)
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, self.settings.graceful_timeout)
        except TimeoutError:
            log.warning("%s: recovery sweep did not finish in time; cancelled", self.service)
        log.info(
            "%s stopped: %d entries in %d batches, %d reclaimed, %d dead-lettered, "
            "%d failed batches",
            self.service,
            self.counts["entries"],
            self.counts["batches"],
            self.counts["reclaimed"],
            self.counts["dead_letters"],
            self.counts["failed_batches"],
        )

    async def _loop(self) -> None:
        sweeps = 0
        while not self._stop.is_set():
            try:
                await self.sweep()
                await self.trim()
                if sweeps % 60 == 0:
                    await self.remove_stale_consumers()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("%s: recovery sweep skipped, Redis unreachable: %s", self.service, exc)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    log.exception("%s: recovery sweep failed", self.service)
                else:
                    # Redis lost its data (restarted without AOF, or flushed). Stop so
                    # the supervisor (newsflow up, compose) restarts us: start-up
                    # recreates the groups and the subscription.
                    log.critical(
                        "%s: consumer group %s on %s is gone; stopping to restart",
                        self.service,
                        self.group,
                        self.stream,
                    )
                    self.on_group_lost()
                    return
            except Exception:
                log.exception("%s: recovery sweep failed", self.service)
            sweeps += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)

    async def sweep(self) -> int:
        """Claim and handle every entry pending longer than the claim idle time."""
        handled = 0
        start: bytes | str = "0-0"
        while not self._stop.is_set():
            reply = await self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self.settings.claim_idle_ms,
                start_id=start,
                count=self.batch_size,
            )
            next_id, claimed = reply[0], reply[1]
            # Redis 6.2 returns entries deleted by a trim as (id, None); 7.x drops them
            # from the pending list itself and lists their ids separately.
            gone = [entry_id for entry_id, fields in claimed if fields is None]
            entries = [(entry_id, fields) for entry_id, fields in claimed if fields is not None]
            if gone:
                await self.client.xack(self.stream, self.group, *gone)
            if entries:
                handled += await self._handle_claimed(entries)
            if _text(next_id) == "0-0":
                break
            start = next_id
        return handled

    async def _handle_claimed(self, entries: list[Entry]) -> int:
        ids = [entry_id for entry_id, _ in entries]
        pending = await self.client.xpending_range(
            self.stream,
            self.group,
            min=ids[0],
            max=ids[-1],
            count=len(ids) * 4 + 16,
            consumername=self.consumer,
        )
        deliveries = {cast("bytes", p["message_id"]): int(p["times_delivered"]) for p in pending}
        exhausted = [e for e in entries if deliveries.get(e[0], 1) > self.settings.max_deliveries]
        retry = [e for e in entries if deliveries.get(e[0], 1) <= self.settings.max_deliveries]
        if exhausted:
            await self._dead_letter(exhausted, deliveries)
        if retry:
            log.info("%s: reclaimed %d pending entries", self.service, len(retry))
            self.counts["reclaimed"] += len(retry)
            self.metrics.reclaim(len(retry))
            await self._process_and_ack(retry)
        return len(entries)

    async def _process_and_ack(self, entries: list[Entry]) -> None:
        """Process claimed entries; on failure one at a time, so a bad entry waits alone."""
        try:
            await self._run(entries)
            await self.client.xack(self.stream, self.group, *[e[0] for e in entries])
            return
        except _SplitFailedError:
            return  # already tried one at a time; the failed ones stay pending
        except Exception:  # noqa: BLE001 - recorded by _run; retried singly below
            if len(entries) == 1 or self._stop.is_set():
                return
        for entry in entries:
            try:
                await self._run([entry])
            except Exception:  # noqa: BLE001 - stays pending; dead-lettered when exhausted
                continue
            await self.client.xack(self.stream, self.group, entry[0])

    async def _dead_letter(self, entries: list[Entry], deliveries: dict[bytes, int]) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            for entry_id, fields in entries:
                count = deliveries.get(entry_id, 0)
                last = self._errors.pop(entry_id, None)
                letter = dead_letter(
                    service=self.service,
                    stream=self.stream,
                    group=self.group,
                    entry_id=entry_id,
                    fields=fields,
                    delivery_count=count,
                    error_class="MaxDeliveriesExceeded",
                    error=f"failed {count - 1} deliveries (limit {self.settings.max_deliveries})"
                    + (f"; last error: {last}" if last else ""),
                )
                add_dead_letter(pipe, self.names, letter)
                pipe.xack(self.stream, self.group, entry_id)
            await pipe.execute()
        self.counts["dead_letters"] += len(entries)
        self.metrics.dead_letter(len(entries), "max_deliveries")
        log.warning(
            "%s: %d entries exceeded %d deliveries; moved to %s",
            self.service,
            len(entries),
            self.settings.max_deliveries,
            self.names.dlq,
        )

    # --- retention ------------------------------------------------------------------------

    async def trim(self) -> int:
        """XTRIM MINID below the oldest entry any group on the stream has not acknowledged."""
        try:
            groups = await self.client.xinfo_groups(self.stream)
        except ResponseError:
            return 0
        if not groups:
            return 0  # no group reads it: readers use XREAD, keep everything
        bounds: list[tuple[int, int]] = []
        for info in groups:
            if int(info["pending"]):
                summary = await self.client.xpending(self.stream, _text(info["name"]))
                if summary["min"] is not None:
                    bounds.append(_parse_id(summary["min"]))
                    continue
            bounds.append(_parse_id(_next_id(info["last-delivered-id"])))
        ms, seq = min(bounds)
        trimmed: int = await self.client.xtrim(self.stream, minid=f"{ms}-{seq}", approximate=False)
        return trimmed

    async def remove_stale_consumers(self) -> int:
        """Delete consumers of this group with nothing pending and idle past the limit."""
        removed = 0
        for info in await self.client.xinfo_consumers(self.stream, self.group):
            name = _text(info["name"])
            idle = int(info.get("inactive", info["idle"]) or 0)
            if (
                name == self.consumer
                or int(info["pending"])
                or idle < self.settings.stale_consumer_ms
            ):
                continue
            await self.client.xgroup_delconsumer(self.stream, self.group, name)
            removed += 1
            log.info("%s: removed stale consumer %s (idle %d s)", self.service, name, idle // 1000)
        return removed


def _stop_this_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def install_signal_handlers(exit_app: Callable[[], None], service: str) -> None:
    """First SIGINT/SIGTERM stops gracefully; a second one exits at once."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(sig: int) -> None:
        received.append(sig)
        if len(received) == 1:
            log.info(
                "%s: %s received; finishing in-flight work (again to force)",
                service,
                signal.Signals(sig).name,
            )
            exit_app()
        else:
            log.warning("%s: second signal; exiting now (unfinished entries stay pending)", service)
            os._exit(1)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)


def worker_http_port(settings: Settings, service: str) -> int:
    """The port of ``service``'s health and metrics server (0: none)."""
    ports = {"enrich": settings.enrich_http_port, "sink": settings.sink_http_port}
    return ports.get(service, 0)


def worker_app(
    *,
    service: str,
    stream: str,
    group: str,
    batch_size: int,
    settings: Settings,
    redis_url: str,
    process: Process,
    on_start: Callable[[], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    client: aioredis.Redis | None = None,
    ready_check: Callable[[], str | None] | None = None,
    http_port: int | None = None,
) -> FastStream:
    """A FastStream app for one batch consumer with recovery, retention and clean shutdown.

    The process also serves ``/healthz``, ``/readyz`` and ``/metrics`` (see
    ``services.observability``) on ``NEWSFLOW_WORKER_HTTP_HOST`` and the service's
    port (``http_port``, else ``NEWSFLOW_ENRICH_HTTP_PORT`` / ``NEWSFLOW_SINK_HTTP_PORT``;
    0 serves nothing) from the start of start-up to the end of shutdown. ``/readyz``
    answers 503 until ``on_start`` has finished; ``ready_check`` may name one more
    problem (returns a sentence) or none (returns None).
    """
    broker = make_broker(settings, redis_url)
    client = client or connect(redis_url, cluster=settings.redis_cluster)
    names = StreamNames(settings.prefix)
    metrics = WorkerMetrics(service)
    consumer = BatchConsumer(
        service=service,
        stream=stream,
        group=group,
        batch_size=batch_size,
        settings=settings,
        client=client,
        process=process,
        metrics=metrics,
    )
    consumer.subscribe(broker)
    app = FastStream(broker)
    probe = WorkerProbe(
        service=service,
        stream=stream,
        group=group,
        client=client,
        max_lag=settings.ready_max_lag,
        checks=[consumer.problem] + ([ready_check] if ready_check is not None else []),
    )
    port = worker_http_port(settings, service) if http_port is None else http_port
    http = (
        HttpServer(
            build_http_app(probe, metrics, dlq=names.dlq, api_key=settings.api_key),
            settings.worker_http_host,
            port,
            service,
        )
        if port
        else None
    )

    @app.on_startup
    async def startup() -> None:
        if http is not None:
            await http.start()
        await wait_for_redis(client, service)
        await ensure_pipeline_groups(client, names)
        if on_start is not None:
            await on_start()

    @app.after_startup
    async def started() -> None:
        install_signal_handlers(app.exit, service)
        consumer.start()
        probe.phase = "running"
        log.info("%s ready: consumer %s reading %s", service, consumer.consumer, stream)

    @app.on_shutdown
    async def stopping() -> None:
        probe.phase = "stopping"
        await consumer.stop()

    @app.after_shutdown
    async def stopped() -> None:
        if on_stop is not None:
            await on_stop()
        if http is not None:
            await http.stop()
        await client.aclose()

    return app
