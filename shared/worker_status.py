"""What each worker is doing, kept in Redis where any tool can read it.

Every stream worker (ingest's inbox reader, enrich, sink) writes one key,
``<prefix>worker:<consumer>``, every few seconds: its service, consumer name, and
whether it is holding a batch (since when, and why: storage away, a key of the
wrong type ...). The key expires after ``TTL_S``, so a worker that died drops out.
``newsflow stats`` and ``newsflow up`` read them, so a sink that cannot write for
minutes is reported where people look, not only on its own ``/readyz``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.streams import StreamNames

TTL_S = 30


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    service: str
    consumer: str
    updated_at: str
    holding_since: str | None = None
    holding_s: float = 0.0
    holding_reason: str | None = None

    def line(self) -> str:
        """One line for people: ``sink (sink-host-12): holding 312 s: RetryableError ...``."""
        state = (
            f"holding {self.holding_s:.0f} s: {self.holding_reason}"
            if self.holding_since
            else "running"
        )
        return f"{self.service} ({self.consumer}): {state}"


def key(names: StreamNames, consumer: str) -> str:
    return f"{names.prefix}worker:{consumer}"


def status_now(service: str, consumer: str, holding: tuple[float, str] | None) -> WorkerStatus:
    """The status of a worker; ``holding`` is (monotonic start, reason) or None."""
    now = datetime.now(UTC)
    if holding is None:
        return WorkerStatus(service, consumer, now.isoformat(timespec="seconds"))
    held = time.monotonic() - holding[0]
    since = datetime.fromtimestamp(now.timestamp() - held, UTC)
    return WorkerStatus(
        service,
        consumer,
        now.isoformat(timespec="seconds"),
        holding_since=since.isoformat(timespec="seconds"),
        holding_s=round(held, 1),
        holding_reason=holding[1][:500],
    )


async def publish(client: Any, names: StreamNames, status: WorkerStatus) -> None:
    await client.set(key(names, status.consumer), orjson.dumps(asdict(status)), ex=TTL_S)


def read_all(client: Any, names: StreamNames) -> list[WorkerStatus]:
    """Every live worker's status (a blocking client), by service and consumer."""
    keys = sorted(client.scan_iter(match=key(names, "*"), count=1000))
    found: list[WorkerStatus] = []
    for raw in client.mget(keys) if keys else []:
        if raw is None:
            continue
        try:
            found.append(WorkerStatus(**orjson.loads(raw)))
        except (orjson.JSONDecodeError, TypeError):
            continue
    return sorted(found, key=lambda s: (s.service, s.consumer))
