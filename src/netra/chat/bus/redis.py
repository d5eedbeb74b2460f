"""The Redis bus: notices over one pub/sub channel with the async client. The publishing
instance handles its own notices directly (with the envelopes in hand) and ignores
their echo; after a reconnect it asks for a resync, since pub/sub does not replay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace

from redis.asyncio import Redis
from redis.exceptions import RedisError

from netra.chat.bus.base import Handler, Notice

log = logging.getLogger("netra.chat.bus")
CHANNEL = "netra:chat:notices"


class RedisBus:
    name = "redis"

    def __init__(self, url: str, instance_id: str, channel: str = CHANNEL) -> None:
        self.client: Redis = Redis.from_url(url, socket_connect_timeout=3)
        self.instance_id = instance_id
        self.channel = channel
        self._handler: Handler | None = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        self._listener = asyncio.create_task(self._listen(), name="redis-bus")
        # Startup waits briefly for the subscription; readiness reports it otherwise.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 5.0)

    async def publish(self, notice: Notice) -> None:
        await self.publish_many((notice,))

    async def publish_many(self, notices: Sequence[Notice]) -> None:
        """Handled here at once, then sent to the others in one round trip."""
        if self._handler is not None:
            for notice in notices:
                self._handler(notice)
        try:
            if len(notices) == 1:
                await self.client.publish(self.channel, _wire(notices[0]))
                return
            async with self.client.pipeline(transaction=False) as pipe:
                for notice in notices:
                    pipe.publish(self.channel, _wire(notice))
                await pipe.execute()
        except RedisError as exc:
            # The events are committed; other instances catch up on their next notice
            # or resync. Losing a notice delays, never loses, an event.
            log.warning("could not publish to Redis: %s", exc)

    async def ping(self) -> str:
        await self.client.ping()
        if not self._subscribed.is_set():
            raise ConnectionError("not subscribed to the Redis channel yet")
        return "Redis pub/sub connected"

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.client.aclose()

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    delay = 0.2
                    self._deliver(Notice("resync", self.instance_id))
                    async for message in pubsub.listen():
                        self._receive(message.get("data"))
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                log.warning("Redis bus disconnected (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _receive(self, data: object) -> None:
        if not isinstance(data, bytes | str):
            return
        try:
            notice = Notice.decode(data)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed bus notice")
            return
        if notice.origin != self.instance_id:
            self._deliver(notice)

    def _deliver(self, notice: Notice) -> None:
        if self._handler is not None:
            self._handler(notice)


def _wire(notice: Notice) -> str:
    """What the other instances get: the notice without its envelopes (in-process only)."""
    return replace(notice, envelopes=()).encode()
