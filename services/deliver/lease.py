"""One deliverer at a time per webhook: a lease key with an owner and a time to live.

Order per endpoint needs a single reader. Each deliver worker process tries to take
a webhook's lease (``SET NX PX``) before it delivers; the holder renews it every third
of its life and gives it back when it stops. Another process takes over when the
lease lapses (the holder died): it reads the group's pending entries first.
"""

from __future__ import annotations

import asyncio
from typing import Any

# Renew only a lease we still hold; give back only our own.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """The lease ``key``, held by ``owner`` for ``ttl_ms`` at a time."""

    def __init__(self, client: Any, key: str, owner: str, ttl_ms: int) -> None:
        self.client, self.key, self.owner, self.ttl_ms = client, key, owner, ttl_ms

    async def acquire(self) -> bool:
        """True when this owner holds the lease now (taken, or already held)."""
        if await self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms):
            return True
        return bool(await self.client.eval(_RENEW, 1, self.key, self.owner, self.ttl_ms))

    async def keep(self, lost: asyncio.Event) -> None:
        """Renew until cancelled; set ``lost`` and return if the lease was lost."""
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            if not await self.client.eval(_RENEW, 1, self.key, self.owner, self.ttl_ms):
                lost.set()
                return

    async def release(self) -> None:
        await self.client.eval(_RELEASE, 1, self.key, self.owner)
