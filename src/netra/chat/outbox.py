"""Per-connection bounded outgoing queues and the local fan-out of thread events.

Fan-out never creates a task per recipient: the hub appends one pre-encoded frame to
each subscriber's deque and sets its wake-up event; one writer per connection drains
its deque. A deque that would exceed its bound marks the connection overloaded (1013)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


@dataclass(eq=False, slots=True)
class Outbox:
    """Frames waiting for one connection's writer."""

    limit: int
    frames: deque[str] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Created only when a replay has to wait for room: most sockets never need it.
    room: asyncio.Event | None = None
    close_code: int | None = None
    close_reason: str = ""

    def push(self, frame: str) -> bool:
        """Queue a live frame; False (and the connection is doomed) if the reader lags."""
        frames = self.frames
        if self.close_code is not None:
            return False
        if len(frames) >= self.limit:
            self.fail(1013, "too slow: outgoing queue full, reconnect and resume")
            return False
        if not frames:  # the writer waits only when it has found the deque empty
            self.wake.set()
        frames.append(frame)
        return True

    async def put(self, frame: str) -> None:
        """Queue a replayed frame, waiting for room instead of failing."""
        while len(self.frames) >= self.limit and self.close_code is None:
            if self.room is None:
                self.room = asyncio.Event()
            self.room.clear()
            await self.room.wait()
        self.push(frame)

    def fail(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
        self.wake.set()
        if self.room is not None:
            self.room.set()

    def take(self) -> list[str]:
        batch = list(self.frames)
        self.frames.clear()
        if self.room is not None:
            self.room.set()
        return batch
