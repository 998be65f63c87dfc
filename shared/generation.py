"""Noticing that Redis lost its data, and saying how much was lost.

Redis holds every article between ``POST /v1/articles`` (202) and the sink. A Redis
run without persistence (or whose AOF/RDB files are lost) comes back empty after a
restart: the articles that were accepted and not yet stored are gone, and nothing
else in the pipeline can tell, since the consumer groups are simply created again.

A *generation marker* tells. The first ingest process that finds no marker writes
one (``<prefix>generation``: a random id and when it was written). Every ingest
process then checks it every few seconds and, while it is there, notes how many
articles the pipeline holds and has not stored (the backlog: lag plus pending of
the enrich and sink groups, and the inbox's). When the marker disappears, or is
replaced by one this process has not seen, Redis lost its data since the last
check, and so did everything it held then: the process

- writes a new marker (one process wins; the others adopt it),
- records an incident on ``<prefix>incidents`` (kept across later losses only as
  long as Redis keeps it, so it is also logged): the previous and new generation,
  the time of the last good check, the backlog then, and the articles this process
  accepted since,
- logs it at ERROR, and counts it in ``newsflow_redis_data_loss_total``.

The README's "When Redis loses data" says what to do: send again what the scrapers
sent after the last good check (the duplicate markers are gone with the rest, so
nothing is refused as a duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.exceptions import RedisError

from shared.models import DataLossIncident
from shared.redis import group_backlog
from shared.streams import GROUP_ENRICH, GROUP_INGEST, GROUP_SINK, JSON_FIELD, StreamNames
from shared.topology import INCIDENTS

log = logging.getLogger(__name__)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_marker() -> dict[str, str]:
    """A fresh generation: a random id and the time it starts."""
    return {"id": secrets.token_hex(8), "since": _now_iso()}


async def read_marker(client: aioredis.Redis, names: StreamNames) -> dict[str, str] | None:
    raw = await client.get(names.generation)
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {"id": _text(raw), "since": ""}
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        return {"id": _text(raw), "since": ""}
    return {"id": value["id"], "since": str(value.get("since", ""))}


async def claim_marker(client: aioredis.Redis, names: StreamNames) -> dict[str, str]:
    """The current generation, writing a new one if there is none (first writer wins)."""
    await client.set(names.generation, orjson.dumps(new_marker()), nx=True)
    marker = await read_marker(client, names)
    if marker is None:  # deleted between the two commands: try once more
        await client.set(names.generation, orjson.dumps(new_marker()), nx=True)
        marker = await read_marker(client, names) or new_marker()
    return marker


async def pipeline_backlog(client: aioredis.Redis, names: StreamNames) -> int:
    """Articles accepted (or sent to the inbox) and not yet stored."""
    return (
        await group_backlog(client, names.inbox, GROUP_INGEST)
        + await group_backlog(client, names.raw, GROUP_ENRICH)
        + await group_backlog(client, names.enriched, GROUP_SINK)
    )


# Recorded on the incidents stream as its JSON (``shared.models.DataLossIncident``).
Incident = DataLossIncident


@dataclass
class GenerationWatch:
    """Checks the generation marker; see the module docstring.

    ``accepted`` returns how many articles this process has accepted so far (a
    running total); the watch takes differences between checks.
    """

    client: aioredis.Redis
    names: StreamNames
    accepted: Callable[[], int] = lambda: 0
    on_incident: Callable[[Incident], None] | None = None
    generation: str | None = None
    last_good: str = ""
    backlog: int = 0
    _accepted_at_check: int = 0
    incidents: list[Incident] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def start(self) -> None:
        marker = await claim_marker(self.client, self.names)
        self.generation = marker["id"]
        await self._note_good()

    async def check(self) -> Incident | None:
        """One check; the incident if Redis lost its data since the last one. Checks
        never overlap (the periodic one and the inbox reader's may coincide)."""
        async with self._lock:
            return await self._check()

    async def _check(self) -> Incident | None:
        if self.generation is None:
            await self.start()
            return None
        marker = await read_marker(self.client, self.names)
        if marker is not None and marker["id"] == self.generation:
            await self._note_good()
            return None
        accepted_since = self.accepted() - self._accepted_at_check
        if marker is None:
            marker = await claim_marker(self.client, self.names)
        if await self._recorded_by_another(marker["id"]):
            # Another ingest process noticed this loss first and recorded it.
            log.error(
                "Redis lost its data (recorded by another ingest process as generation %s); "
                "this process accepted %d articles since its last good check (%s)",
                marker["id"],
                accepted_since,
                self.last_good,
            )
            self.generation = marker["id"]
            await self._note_good()
            return None
        incident = Incident(
            previous_generation=self.generation,
            generation=marker["id"],
            last_good_check=self.last_good,
            detected=_now_iso(),
            backlog_at_last_check=self.backlog,
            accepted_since_last_check=accepted_since,
        )
        self.generation = marker["id"]
        self.incidents.append(incident)
        await self.client.xadd(
            self.names.incidents,
            {JSON_FIELD: incident.model_dump_json()},
            maxlen=INCIDENTS.cap,
            approximate=True,
        )
        log.error("%s", incident.message())
        if self.on_incident is not None:
            self.on_incident(incident)
        await self._note_good()
        return incident

    async def _recorded_by_another(self, current: str) -> bool:
        for incident in await recent_incidents(self.client, self.names):
            if incident.previous_generation == self.generation:
                return incident.generation == current
        return False

    async def _note_good(self) -> None:
        self.backlog = await pipeline_backlog(self.client, self.names)
        self.last_good = _now_iso()
        self._accepted_at_check = self.accepted()


async def recent_incidents(
    client: aioredis.Redis, names: StreamNames, count: int = 10
) -> list[Incident]:
    """The newest incidents first, as recorded on the incidents stream."""
    entries = await client.xrevrange(names.incidents, count=count) or []
    return parse_incidents(entries)


def parse_incidents(entries: Any) -> list[Incident]:
    """Incidents from ``XREVRANGE`` entries (unreadable ones left out)."""
    found: list[Incident] = []
    for _, fields in entries:
        raw = (fields or {}).get(JSON_FIELD.encode()) or (fields or {}).get(JSON_FIELD)
        try:
            found.append(Incident.model_validate_json(raw or b""))
        except ValidationError:
            continue
    return found


async def watch_forever(watch: GenerationWatch, interval_s: float, stop: asyncio.Event) -> None:
    """Check every ``interval_s`` until ``stop`` is set; Redis being away is not a loss.

    Stopped by an event, not by cancelling: redis-py can swallow a cancellation that
    lands in a command, and the loop would then go on for ever."""
    while not stop.is_set():
        try:
            await watch.check()
        except (RedisError, OSError) as exc:
            # Away or restarting: the next check that reaches it decides.
            log.debug("generation check skipped: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
