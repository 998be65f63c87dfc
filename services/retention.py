"""Trimming of topic and subscription streams by their limits (``Trim.LIMITS``).

These streams are kept for ``NEWSFLOW_TOPIC_RETENTION_HOURS`` and at most
``NEWSFLOW_TOPIC_MAXLEN`` entries, and nothing else trims them. A subscriber's
consumer group on one of them may still be behind when a limit passes its
position: the entries are trimmed anyway (the limit is what bounds memory), and
each such group is told how many entries it lost, in a log line and in the
``newsflow_trimmed_unread_total`` metric.

The count is exact without reading any entry: the stream is trimmed in steps, at
each behind group's oldest unacknowledged entry and then at the limit, and each
``XTRIM MINID`` returns how many entries it removed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)

# The id of the entry ``ARGV[1]`` places from the start (1-based), or false: where a
# length limit cuts. Run in Redis, a page of 500 entries at a time, so no entry
# crosses the network and memory stays bounded however long the stream is.
_NTH_ID_LUA = """
local need = tonumber(ARGV[1])
local start = '-'
local last = false
while need > 0 do
  local page = math.min(need, 500)
  local found = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', page)
  if #found == 0 then return false end
  last = found[#found][1]
  need = need - #found
  start = '(' .. last
end
return last
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def parse_id(entry_id: bytes | str) -> tuple[int, int]:
    """A stream id as (milliseconds, sequence)."""
    ms, _, seq = _text(entry_id).partition("-")
    return int(ms), int(seq or 0)


def format_id(parts: tuple[int, int]) -> str:
    return f"{parts[0]}-{parts[1]}"


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of a stream: entries older than ``max_age_ms``, and all but the
    newest ``max_len`` entries, are trimmed (None: no such limit)."""

    max_age_ms: int | None
    max_len: int | None


@dataclass(slots=True)
class Trimmed:
    """What one trim removed: in all, and per group that had not acknowledged it."""

    total: int = 0
    unread: dict[str, int] = field(default_factory=dict)


async def _oldest_unacked(client: aioredis.Redis, stream: str) -> dict[str, tuple[int, int]]:
    """Each group's oldest entry not acknowledged (pending, or after its last delivered)."""
    oldest: dict[str, tuple[int, int]] = {}
    for info in await client.xinfo_groups(stream):
        name = _text(info["name"])
        if int(info["pending"]):
            summary = await client.xpending(stream, name)
            if summary["min"] is not None:
                oldest[name] = parse_id(summary["min"])
                continue
        ms, seq = parse_id(info["last-delivered-id"])
        oldest[name] = (ms, seq + 1)
    return oldest


async def cut_point(
    client: aioredis.Redis, stream: str, limits: Limits, now_ms: int
) -> tuple[int, int] | None:
    """The id below which ``limits`` trim ``stream`` (None: they trim nothing)."""
    cuts: list[tuple[int, int]] = []
    if limits.max_age_ms is not None:
        cuts.append((now_ms - limits.max_age_ms, 0))
    if limits.max_len is not None:
        excess = int(await client.xlen(stream)) - limits.max_len
        if excess > 0:
            first_kept = await client.eval(_NTH_ID_LUA, 1, stream, str(excess + 1))
            if first_kept:
                cuts.append(parse_id(first_kept))
    return max(cuts) if cuts else None


async def trim_to_limits(
    client: aioredis.Redis, stream: str, limits: Limits, now_ms: int | None = None
) -> Trimmed:
    """Trim ``stream`` to ``limits``, counting per consumer group the entries it lost."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    cut = await cut_point(client, stream, limits, now_ms)
    done = Trimmed()
    if cut is None:
        return done
    try:
        oldest = await _oldest_unacked(client, stream)
    except ResponseError:
        return done  # the stream does not exist (yet)
    behind = {group: at for group, at in oldest.items() if at < cut}
    # Steps: each behind group's position, then the cut. What a step removes lies
    # between the previous step and this one, so it is lost to every group at or
    # below the previous step.
    steps = [*sorted(set(behind.values())), cut]
    previous: tuple[int, int] | None = None
    for step in steps:
        removed = int(await client.xtrim(stream, minid=format_id(step), approximate=False))
        done.total += removed
        if previous is not None and removed:
            for group, at in behind.items():
                if at <= previous:
                    done.unread[group] = done.unread.get(group, 0) + removed
        previous = step
    return done
