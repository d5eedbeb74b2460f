"""The per-thread event log: every agent event gets the next gap-free `seq` of its thread
and is committed before anyone is told about it (docs/architecture.md decision 4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.events import AgentEvent
from netra.chat.envelope import Envelope, insert_envelopes, numbered_envelopes
from netra.chat.errors import NoSuchThread
from netra.chat.event_writer import EventWriter
from netra.chat.models import RunEvent, threads_table
from netra.chat.write_group import Append, Job, write
from netra.db.base import utcnow

_threads = threads_table
_NEXT_SEQS = (
    update(_threads)
    .where(_threads.c.id == bindparam("b_thread"))
    .values(last_seq=_threads.c.last_seq + bindparam("b_count"), updated_at=bindparam("b_now"))
    .returning(_threads.c.last_seq)
)
_NEXT_SEQS_OWNED = _NEXT_SEQS.where(_threads.c.user_id == bindparam("b_owner"))


class EventLog:
    """Appends and reads `run_events`; the only writer of `threads.last_seq`."""

    def __init__(
        self, db: async_sessionmaker[AsyncSession], linger: float = 0.002, lanes: int = 1
    ) -> None:
        self.db = db
        self.writer = EventWriter(self, linger, lanes)

    async def append(
        self, thread_id: str, run_id: str, events: Sequence[AgentEvent]
    ) -> list[Envelope]:
        """Persist `events` with the thread's next seqs: with the writer started, in one
        transaction with the writes of other runs (netra.chat.event_writer), else alone.
        RunEnded if the run's end is recorded already."""
        if not events:
            return []
        result: list[Envelope] = await self.submit(Append(thread_id, run_id, events))
        return result

    async def submit(self, job: Job) -> Any:
        """`job`'s result (netra.chat.write_group), written with others by the writer
        when it runs, else alone; raises what refuses it."""
        if self.writer.running:
            return await self.writer.submit(job)
        return await self.write_alone(job)

    async def write_alone(self, job: Job) -> Any:
        """`job` in a transaction of its own (the same checks and rows as in a group)."""
        async with self.db.begin() as session:
            (result,) = await write(session, [job], utcnow())
        if isinstance(result, Exception):
            raise result
        return result

    async def append_in(
        self,
        session: AsyncSession,
        thread_id: str,
        run_id: str,
        events: Sequence[AgentEvent],
        *,
        owner: str | None = None,
    ) -> list[Envelope]:
        """Like `append`, inside the caller's transaction (committed by the caller).
        With `owner`, raises NoSuchThread unless the thread is that user's."""
        now = utcnow()
        params = {"b_thread": thread_id, "b_count": len(events), "b_now": now}
        if owner is None:
            last = await self.take_seqs(session, thread_id, len(events), now)
        else:
            last = await session.scalar(_NEXT_SEQS_OWNED, {**params, "b_owner": owner})
        if last is None:
            raise NoSuchThread(thread_id)
        envelopes = self.envelopes(thread_id, run_id, events, last - len(events) + 1, now)
        await self.insert(session, envelopes)
        return envelopes

    async def take_seqs(
        self, session: AsyncSession, thread_id: str, count: int, now: datetime
    ) -> int:
        """The thread's new last seq after taking `count` more; its row stays locked until
        commit, so concurrent appenders to one thread queue up and seqs stay gap-free
        (other threads are not blocked). NoSuchThread if it is gone."""
        params = {"b_thread": thread_id, "b_count": count, "b_now": now}
        last = await session.scalar(_NEXT_SEQS, params)
        if last is None:
            raise NoSuchThread(thread_id)
        return int(last)

    envelopes = staticmethod(numbered_envelopes)

    insert = staticmethod(insert_envelopes)

    async def read(self, thread_id: str, after_seq: int, limit: int = 500) -> list[Envelope]:
        """Events of a thread with seq > after_seq, oldest first."""
        async with self.db() as session:
            rows = await session.execute(
                select(RunEvent)
                .where(RunEvent.thread_id == thread_id, RunEvent.seq > after_seq)
                .order_by(RunEvent.seq)
                .limit(limit)
            )
            return [
                Envelope(r.type, r.thread_id, r.run_id, r.seq, r.ts, r.payload)
                for r in rows.scalars()
            ]
