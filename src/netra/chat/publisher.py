"""Committed events of this instance's runs, told to every instance through the bus (the
hub here fans them out with the envelopes in hand; the others read them back)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from netra.chat.bus import EventBus, Notice
from netra.chat.envelope import Envelope


class Publisher:
    def __init__(self, bus: EventBus, instance_id: str) -> None:
        self.bus, self.instance_id = bus, instance_id
        self.due: list[Notice] = []  # announcements for the next `_announce_all`
        self.tasks: set[asyncio.Task[None]] = set()  # referenced until done

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """A run's committed events, now (none: nothing)."""
        if envelopes:
            await self.bus.publish(self.notice(envelopes))

    def announce(self, envelopes: Sequence[Envelope]) -> None:
        """A queued run's first events, once its caller has answered (the `ack` goes
        first): those of every run queued in this turn of the loop together, by one task
        (a thousand messages at once are a thousand announcements)."""
        if not envelopes:
            return
        self.due.append(self.notice(envelopes))
        if len(self.due) == 1:
            task = asyncio.create_task(self._announce_all())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _announce_all(self) -> None:
        notices, self.due = self.due, []
        await self.bus.publish_many(notices)

    def notice(self, envelopes: Sequence[Envelope]) -> Notice:
        """The notice of a thread's committed `envelopes` (consecutive seqs)."""
        first, last = envelopes[0], envelopes[-1]
        return Notice(
            "events",
            self.instance_id,
            thread_id=first.thread_id,
            first_seq=first.seq,
            last_seq=last.seq,
            envelopes=tuple(envelopes),
        )
