"""Group commit for the event log: the appends of concurrent runs that arrive while a
transaction is in flight (or within a short, bounded linger) are written in one
transaction, and each caller learns its envelopes only after that commit, so an event
is still persisted before it is sent (docs/architecture.md decision 4)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING

from netra.agents.events import AgentEvent
from netra.db.base import utcnow

if TYPE_CHECKING:
    from netra.chat.eventlog import Envelope, EventLog

logger = logging.getLogger(__name__)

MAX_GROUP = 200  # appends per transaction: bounds a group's locks and its latency
MAX_LINGER = 0.05  # seconds; EVENT_LINGER is capped well below it in the contract


class RunEnded(Exception):
    """A run's events came after its end was recorded (another instance's sweeper ended
    it: its lease expired while this instance was too starved to renew it). They are not
    written: a run's terminal event is its last (docs/protocol.md)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} was ended elsewhere; its later events are dropped")
        self.run_id = run_id


@dataclass
class Pending:
    """One caller's append, waiting for the group it joins to commit."""

    thread_id: str
    run_id: str
    events: Sequence[AgentEvent]
    done: asyncio.Future[list[Envelope]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class EventWriter:
    """One task per process writes every append handed to it; `append` awaits its turn.
    Not started (or stopped), the event log hands it nothing and writes each append alone."""

    def __init__(self, log: EventLog, linger: float = 0.002) -> None:
        self.log = log
        self.linger = min(max(linger, 0.0), MAX_LINGER)
        self.pending: list[Pending] = []
        self.current: list[Pending] = []  # the group being written
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.closing = False
        self.groups = 0  # transactions committed, and the appends they carried
        self.grouped = 0
        self._company = False  # the last group had more than one append

    @property
    def running(self) -> bool:
        # A task that died (it should not) takes no more appends: they are written alone.
        return self.task is not None and not self.task.done() and not self.closing

    def start(self) -> None:
        """Run the writer in an empty context: its transactions' spans and log fields
        belong to no run, whichever one happened to start it."""
        if self.task is None:
            self.closing = False
            self.task = asyncio.create_task(
                self._loop(), name="event-writer", context=contextvars.Context()
            )

    async def stop(self) -> None:
        """Write every append handed over so far, then end the task."""
        task, self.task = self.task, None
        if task is None:
            return
        self.closing = True
        self.wake.set()
        try:
            await task
        except Exception:  # it died earlier; its waiters were failed then
            logger.exception("the event writer had stopped on an error")
        if self.groups:
            average = self.grouped / self.groups
            logger.info(
                "event writer stopped: %d appends in %d transactions (%.1f each)",
                self.grouped,
                self.groups,
                average,
            )

    async def append(
        self, thread_id: str, run_id: str, events: Sequence[AgentEvent]
    ) -> list[Envelope]:
        item = Pending(thread_id, run_id, events)
        self.pending.append(item)
        self.wake.set()
        try:
            return await asyncio.shield(item.done)
        except asyncio.CancelledError:
            # A cancelled run records its end next: its append must not land after that
            # end. Not yet in a group, it is withdrawn (as a rolled-back transaction was);
            # in one, the caller waits for the commit (the events are then not sent by it:
            # the next notice's gap brings them from the log).
            if item in self.pending:
                self.pending.remove(item)
            elif not item.done.done():
                await asyncio.wait([item.done])
                item.done.exception()  # seen: the run's end is what matters now
            raise

    async def _loop(self) -> None:
        try:
            await self._groups()
        finally:  # cancelled (not stopped): nobody may wait forever for an answer
            for item in [*self.current, *self.pending]:
                if not item.done.done():
                    item.done.set_exception(RuntimeError("the event writer was stopped"))

    async def _groups(self) -> None:
        while True:
            if not self.pending:
                if self.closing:
                    return
                self.wake.clear()
                await self.wake.wait()
                continue
            # Linger only when there was company last time: a lone run pays no wait.
            if self.linger and self._company and len(self.pending) < MAX_GROUP:
                await asyncio.sleep(self.linger)
            group, self.pending = self.pending[:MAX_GROUP], self.pending[MAX_GROUP:]
            self.current = group
            self._company = len(group) > 1
            await self._write(group)
            self.current = []

    async def _write(self, group: list[Pending]) -> None:
        try:
            written = await self._group(group)
        except Exception as error:  # one bad append must fail only its own caller
            if len(group) > 1:
                logger.info("a group of %d appends failed (%s); each alone", len(group), error)
            for item in group:
                await self._alone(item)
            return
        self.groups += 1
        self.grouped += len(group)
        for item, envelopes in written:
            if item.done.done():
                continue
            if envelopes is None:
                item.done.set_exception(RunEnded(item.run_id))
            else:
                item.done.set_result(envelopes)

    async def _group(self, group: list[Pending]) -> list[tuple[Pending, list[Envelope] | None]]:
        """One transaction: the runs' rows locked in run-id order and those ended already
        left out (None), then each thread's seqs taken in thread-id order (the lock order
        every instance shares, runs before threads as a run's end takes them, so groups
        never deadlock), then every row in one insert."""
        ordered = sorted(group, key=lambda item: item.thread_id)  # stable: arrival order
        written: list[tuple[Pending, list[Envelope] | None]] = []
        async with self.log.db.begin() as session:
            now = utcnow()
            ended = await self.log.ended_runs(session, [item.run_id for item in group])
            written += [(item, None) for item in ordered if item.run_id in ended]
            live = [item for item in ordered if item.run_id not in ended]
            for thread_id, items in groupby(live, key=lambda item: item.thread_id):
                mine = list(items)
                total = sum(len(item.events) for item in mine)
                last = await self.log.take_seqs(session, thread_id, total, now)
                first = last - total + 1
                for item in mine:
                    envelopes = self.log.envelopes(
                        item.thread_id, item.run_id, item.events, first, now
                    )
                    first += len(item.events)
                    written.append((item, envelopes))
            await self.log.insert(session, [e for _, envelopes in written for e in envelopes or ()])
        return written

    async def _alone(self, item: Pending) -> None:
        try:
            envelopes = await self.log.append_alone(item.thread_id, item.run_id, item.events)
        except Exception as error:
            if not item.done.done():
                item.done.set_exception(error)
            return
        if not item.done.done():
            item.done.set_result(envelopes)
