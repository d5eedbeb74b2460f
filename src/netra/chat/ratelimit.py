"""Per-user message rate limits: fixed windows, in-process or shared through Redis."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("netra.chat")


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Count one event; seconds to wait if over `limit` per `window`, else None."""
        ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        now = time.monotonic()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 100_000:
            self._prune(now, window)
        return None if count <= limit else round(start + window - now, 3)

    def _prune(self, now: float, window: float) -> None:
        for stale in [k for k, (s, _) in self._windows.items() if now - s >= window]:
            del self._windows[stale]


class RedisRateLimiter:
    """Counts across every instance sharing the Redis; while Redis is unreachable each
    instance counts on its own rather than failing the message with a 500."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self.fallback = MemoryRateLimiter()

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        try:
            return await self._hit(key, limit, window)
        except (RedisError, OSError) as exc:
            log.warning("message rate limits counted in-process: Redis unavailable (%s)", exc)
            return await self.fallback.hit(key, limit, window)

    async def _hit(self, key: str, limit: int, window: float) -> float | None:
        slot = int(time.time() // window)
        name = f"netra:rl:{key}:{slot}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, int(window) + 1)
            count, _ = await pipe.execute()
        if int(count) <= limit:
            return None
        return round((slot + 1) * window - time.time(), 3)
