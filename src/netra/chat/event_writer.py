"""Group commit for the event log: the writes of concurrent runs (their events, new
messages with their runs, runs' ends: netra.chat.write_group) that arrive while a
transaction is in flight (or within a short, bounded linger) are written in one
transaction, and each caller learns its result only after that commit, so an event is
still persisted before it is sent (docs/architecture.md decision 4)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING, Any

from netra.chat.write_group import Job, write
from netra.db.base import utcnow
from netra.db.sqlite_driver import batched_writes

if TYPE_CHECKING:
    from netra.chat.eventlog import EventLog

logger = logging.getLogger(__name__)

MAX_GROUP = 200  # jobs per transaction: bounds a group's locks and its latency
# With one lane (SQLite: one connection, one lock for the whole database) groups go one
# after the other, and each costs the same few trips to the database's thread whatever
# its size; larger ones store a burst sooner (a first wave of 1,000 messages: p99
# 291-324 -> 258-290 ms in alternating runs).
MAX_GROUP_ONE_LANE = 500
MAX_LINGER = 0.05  # seconds; EVENT_LINGER is capped well below it in the contract
# A group this large or larger goes at once: lingering is for jobs about to join a small
# one, and its wake-up waits behind whatever the loop has queued meanwhile (after a group
# of 500 posts, their 500 answers: 30-40 ms while the next 300 posts waited).
LINGER_UNDER = 64
LANES = 3  # groups written at once on PostgreSQL (measured: docs/architecture.md)


class EventWriter:
    """One task per process writes every job handed to it; `submit` awaits its turn.
    Not started (or stopped), the event log hands it nothing and writes each job alone."""

    def __init__(self, log: EventLog, linger: float = 0.002, lanes: int = 1) -> None:
        self.log = log
        self.linger = min(max(linger, 0.0), MAX_LINGER)
        # Groups written at once, each on its own connection: while one waits on the
        # database the next forms and goes (PostgreSQL; SQLite's one connection takes
        # one at a time). Their locks, taken in one order, keep them from deadlocking.
        self.lanes = max(1, lanes)
        self.max_group = MAX_GROUP if self.lanes > 1 else MAX_GROUP_ONE_LANE
        self.pending: list[Job] = []
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.closing = False
        self.groups = 0  # transactions committed, and the jobs they carried
        self.grouped = 0
        self._company = False  # the last group had more than one job

    @property
    def running(self) -> bool:
        # A task that died (it should not) takes no more jobs: they are written alone.
        return bool(self.tasks) and not any(t.done() for t in self.tasks) and not self.closing

    def start(self) -> None:
        """Run the writer in an empty context: its transactions' spans and log fields
        belong to no run, whichever one happened to start it."""
        if not self.tasks:
            self.closing = False
            self.tasks = [
                asyncio.create_task(
                    self._loop(), name=f"event-writer-{lane}", context=contextvars.Context()
                )
                for lane in range(self.lanes)
            ]

    async def stop(self) -> None:
        """Write every job handed over so far, then end the tasks."""
        tasks, self.tasks = self.tasks, []
        if not tasks:
            return
        self.closing = True
        self.wake.set()
        for task in tasks:
            try:
                await task
            except Exception:  # it died earlier; its waiters were failed then
                logger.exception("the event writer had stopped on an error")
        if self.groups:
            average = self.grouped / self.groups
            logger.info(
                "event writer stopped: %d jobs in %d transactions (%.1f each)",
                self.grouped,
                self.groups,
                average,
            )

    async def submit(self, job: Job) -> Any:
        """`job`'s result once the group holding it has committed; raises what refused it."""
        self.pending.append(job)
        self.wake.set()
        try:
            return await asyncio.shield(job.done)
        except asyncio.CancelledError:
            # A cancelled run records its end next: its append must not land after that
            # end. Not yet in a group, a job is withdrawn (as a rolled-back transaction
            # was); in one, the caller waits for the commit (its events are then not sent
            # by it: the next notice's gap brings them from the log).
            if job in self.pending:
                self.pending.remove(job)
            elif not job.done.done():
                await asyncio.wait([job.done])
                job.done.exception()  # seen: the run's end is what matters now
            raise

    async def _loop(self) -> None:
        mine: list[Job] = []  # the group this lane writes
        try:
            await self._groups(mine)
        finally:  # cancelled (not stopped): nobody may wait forever for an answer
            for item in [*mine, *self.pending]:
                if not item.done.done():
                    item.done.set_exception(RuntimeError("the event writer was stopped"))

    async def _groups(self, mine: list[Job]) -> None:
        while True:
            if not self.pending:
                if self.closing:
                    return
                self.wake.clear()
                await self.wake.wait()
                continue
            # Linger only when there was company last time (a lone run pays no wait) and
            # the group would be small.
            size = self.max_group
            if self.linger and self._company and len(self.pending) < LINGER_UNDER:
                await asyncio.sleep(self.linger)
                if not self.pending:  # another lane took them meanwhile
                    continue
            group, self.pending = self.pending[:size], self.pending[size:]
            mine[:] = group
            self._company = len(group) > 1
            await self._write(group)
            mine.clear()

    async def _write(self, group: list[Job]) -> None:
        try:
            # SQLite: the group's rows go with its commit, in one trip to the database's
            # thread (netra.db.sqlite_driver); its reads are still answered at once.
            with batched_writes():
                async with self.log.db.begin() as session:
                    results = await write(session, group, utcnow())
        except Exception as error:  # one bad job must fail only its own caller
            if len(group) > 1:
                logger.info("a group of %d jobs failed (%s); each alone", len(group), error)
            for job in group:
                await self._alone(job)
            return
        self.groups += 1
        self.grouped += len(group)
        for job, result in zip(group, results, strict=True):
            _settle(job, result)

    async def _alone(self, job: Job) -> None:
        try:
            result = await self.log.write_alone(job)
        except Exception as error:
            result = error
        _settle(job, result)


def _settle(job: Job, result: Any) -> None:
    if job.done.done():
        return
    if isinstance(result, Exception):
        job.done.set_exception(result)
    else:
        job.done.set_result(result)
