"""The API's backlog reading survives Redis's lag estimate after a restart."""

from __future__ import annotations

from typing import Any

from shared.redis import raw_backlog
from shared.streams import GROUP_ENRICH


class _AfterRestart:
    """What Redis 7 answered after an AOF reload: an empty stream with a lag of 1,645."""

    def __init__(self, length: int, lag: int | None, pending: int) -> None:
        self.length, self.lag, self.pending = length, lag, pending

    async def xinfo_groups(self, stream: str) -> list[dict[str, Any]]:
        return [{"name": GROUP_ENRICH.encode(), "lag": self.lag, "pending": self.pending}]

    async def xlen(self, stream: str) -> int:
        return self.length


async def test_backlog_is_never_more_than_the_stream_holds() -> None:
    assert await raw_backlog(_AfterRestart(0, 1_645, 0), "raw") == 0  # type: ignore[arg-type]
    assert await raw_backlog(_AfterRestart(30, 1_200, 5), "raw") == 30  # type: ignore[arg-type]
    assert await raw_backlog(_AfterRestart(500, 20, 3), "raw") == 23  # type: ignore[arg-type]
    assert await raw_backlog(_AfterRestart(40, None, 3), "raw") == 40  # type: ignore[arg-type]
