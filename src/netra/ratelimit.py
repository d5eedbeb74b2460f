"""Fixed-window counters: in Redis when REDIS_URL is set (every instance shares them),
in this process otherwise. Sign-in limits (auth) and message limits (chat) both count
here; what each limits, and how it answers, stays with its service."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("netra.ratelimit")


class RateLimiter(Protocol):
    async def count(self, key: str, window: float) -> tuple[int, float]:
        """Add one to `key`'s window; returns (count so far, seconds until it resets)."""
        ...

    async def current(self, key: str) -> tuple[int, float]:
        """The count and seconds left, without adding."""
        ...

    async def release(self, key: str) -> None:
        """Take back one count of `key` (a reserved attempt that turned out fine)."""
        ...

    async def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    """One process's windows; bounded by purging ended windows."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._windows: dict[str, tuple[float, int]] = {}
        self._clock = clock
        self._max_keys = max_keys

    async def count(self, key: str, window: float) -> tuple[int, float]:
        now = self._clock()
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            ends, count = now + window, 0
            if len(self._windows) >= self._max_keys:
                self._purge(now)
        self._windows[key] = (ends, count + 1)
        return count + 1, ends - now

    async def current(self, key: str) -> tuple[int, float]:
        now = self._clock()
        ends, count = self._windows.get(key, (0.0, 0))
        return (count, ends - now) if ends > now else (0, 0.0)

    async def release(self, key: str) -> None:
        ends, count = self._windows.get(key, (0.0, 0))
        if count > 0:
            self._windows[key] = (ends, count - 1)

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    def _purge(self, now: float) -> None:
        for key in [k for k, (ends, _) in self._windows.items() if ends <= now]:
            del self._windows[key]


class RedisRateLimiter:
    """Windows shared by every instance: INCR and PEXPIRE in one round trip. While Redis
    is unreachable, each instance counts on its own (limits stay, per instance) rather
    than failing the sign-in with a 500."""

    def __init__(self, redis: Redis, prefix: str = "netra:ratelimit:") -> None:
        self.redis = redis
        self.prefix = prefix
        self.fallback = MemoryRateLimiter()

    async def count(self, key: str, window: float) -> tuple[int, float]:
        try:
            return await self._count(key, window)
        except (RedisError, OSError) as exc:
            _warn(exc)
            return await self.fallback.count(key, window)

    async def current(self, key: str) -> tuple[int, float]:
        try:
            return await self._current(key)
        except (RedisError, OSError) as exc:
            _warn(exc)
            return await self.fallback.current(key)

    async def release(self, key: str) -> None:
        await self.fallback.release(key)
        try:
            await self.redis.eval(_RELEASE, 1, self.prefix + key)  # type: ignore[misc]
        except (RedisError, OSError) as exc:
            _warn(exc)

    async def reset(self, key: str) -> None:
        await self.fallback.reset(key)
        try:
            await self.redis.delete(self.prefix + key)
        except (RedisError, OSError) as exc:
            _warn(exc)

    async def _count(self, key: str, window: float) -> tuple[int, float]:
        name = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, int(window * 1000), nx=True)
            pipe.pttl(name)
            count, _, ttl = await pipe.execute()
        return int(count), max(int(ttl), 0) / 1000

    async def _current(self, key: str) -> tuple[int, float]:
        name = self.prefix + key
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.pttl(name)
            value, ttl = await pipe.execute()
        return (int(value), max(int(ttl), 0) / 1000) if value is not None else (0, 0.0)


# DECR only a live window's positive count: never create a key, never go below zero.
_RELEASE = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


def _warn(exc: BaseException) -> None:
    log.warning("rate limits counted in-process: Redis unavailable (%s)", exc)
