"""Per-connection bounded outgoing queues and the local fan-out of thread events.

Fan-out never creates a task per recipient: the hub appends one pre-encoded frame to
each subscriber's list and wakes its writer; one writer per connection drains its list.
A list that would exceed its bound marks the connection overloaded (1013). Plain lists
and a future only while the writer waits: an idle socket holds no deque (~0.5 KB each).
A writer that is a task only while there is something to write (a /ws socket) sets
`ready` instead of waiting: it is called when a frame or a failure arrives for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from netra.close_codes import Close


@dataclass(eq=False, slots=True)
class Outbox:
    """Frames waiting for one connection's writer."""

    limit: int
    frames: list[str] = field(default_factory=list)
    waiter: asyncio.Future[None] | None = None
    # Created only when a replay has to wait for room: most sockets never need it.
    room: asyncio.Event | None = None
    close_code: int | None = None
    close_reason: str = ""
    ready: Callable[[], None] | None = None  # a writer started on demand (see above)

    def push(self, frame: str) -> bool:
        """Queue a live frame; False (and the connection is doomed) if the reader lags."""
        frames = self.frames
        if self.close_code is not None:
            return False
        if len(frames) >= self.limit:
            self.fail(Close.OVERLOADED, "too slow: outgoing queue full, reconnect and resume")
            return False
        if not frames:  # the writer waits only when it has found the list empty
            self._wake()
        frames.append(frame)
        return True

    async def wait(self) -> None:
        """Until there is a frame to write or the connection is doomed."""
        while not self.frames and self.close_code is None:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        elif self.ready is not None:
            self.ready()

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
        self._wake()
        if self.room is not None:
            self.room.set()

    def take(self) -> list[str]:
        batch, self.frames = self.frames, []
        if self.room is not None:
            self.room.set()
        return batch
