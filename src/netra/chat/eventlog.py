"""The per-thread event log: every agent event gets the next gap-free `seq` of its thread
and is committed before anyone is told about it (docs/architecture.md decision 4)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.events import AgentEvent
from netra.chat.errors import NoSuchThread
from netra.chat.event_writer import EventWriter, RunEnded
from netra.chat.models import ACTIVE, RunEvent, run_events_table, runs_table, threads_table
from netra.db.base import utcnow


@dataclass(frozen=True)
class Envelope:
    """One server → client message about a thread: `{type, thread_id, run_id, seq, ts,
    payload}`; `frame` is its JSON text, encoded once however many clients receive it."""

    type: str
    thread_id: str
    run_id: str
    seq: int
    ts: datetime
    payload: dict[str, Any]
    frame: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", json.dumps(self.as_dict(), separators=(",", ":")))

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "seq": self.seq,
            "ts": self.ts.isoformat(),
            "payload": self.payload,
        }


def split_event(event: AgentEvent) -> tuple[str, dict[str, Any]]:
    """The event's type and its payload (every other field)."""
    data = event.model_dump(mode="json")
    return data.pop("type"), data


_threads = threads_table
_NEXT_SEQS = (
    update(_threads)
    .where(_threads.c.id == bindparam("b_thread"))
    .values(last_seq=_threads.c.last_seq + bindparam("b_count"), updated_at=bindparam("b_now"))
    .returning(_threads.c.last_seq)
)
_NEXT_SEQS_OWNED = _NEXT_SEQS.where(_threads.c.user_id == bindparam("b_owner"))
# Posting a message also reads what the thread shows (its parent, unless it names one),
# under the same lock, in the same statement.
_NEXT_SEQS_POSTING = _NEXT_SEQS_OWNED.returning(_threads.c.active_leaf_id)
# An answer is shown when it lands if its question still is (the user may have switched
# branches meanwhile): the same statement, so finishing a run costs no extra write.
_NEXT_SEQS_ANSWERED = _NEXT_SEQS.values(
    active_leaf_id=case(
        (_threads.c.active_leaf_id == bindparam("b_question"), bindparam("b_answer")),
        else_=_threads.c.active_leaf_id,
    )
)
_INSERT_EVENTS = insert(run_events_table)


_RUN_STATES = (
    select(runs_table.c.id, runs_table.c.status)
    .where(runs_table.c.id.in_(bindparam("b_runs", expanding=True)))
    .order_by(runs_table.c.id)
    .with_for_update()
)


class EventLog:
    """Appends and reads `run_events`; the only writer of `threads.last_seq`."""

    def __init__(self, db: async_sessionmaker[AsyncSession], linger: float = 0.002) -> None:
        self.db = db
        self.writer = EventWriter(self, linger)

    async def append(
        self, thread_id: str, run_id: str, events: Sequence[AgentEvent]
    ) -> list[Envelope]:
        """Persist `events` with the thread's next seqs: with the writer started, in one
        transaction with the appends of other runs (netra.chat.event_writer), else alone."""
        if not events:
            return []
        if self.writer.running:
            return await self.writer.append(thread_id, run_id, events)
        return await self.append_alone(thread_id, run_id, events)

    async def append_alone(
        self, thread_id: str, run_id: str, events: Sequence[AgentEvent]
    ) -> list[Envelope]:
        """`events` in a transaction of their own; RunEnded if the run's end is recorded."""
        async with self.db.begin() as session:
            if await self.ended_runs(session, [run_id]):
                raise RunEnded(run_id)
            return await self.append_in(session, thread_id, run_id, events)

    @staticmethod
    async def ended_runs(session: AsyncSession, run_ids: Sequence[str]) -> set[str]:
        """Those of these runs whose end is recorded. Their rows stay locked (PostgreSQL;
        in id order, before any thread's row, as a run's end locks them) until the caller
        commits, so none ends between this check and the caller's insert."""
        rows = await session.execute(_RUN_STATES, {"b_runs": sorted(set(run_ids))})
        return {run_id for run_id, status in rows if status not in ACTIVE}

    async def post_in(
        self, session: AsyncSession, thread_id: str, run_id: str, event: AgentEvent, owner: str
    ) -> tuple[Envelope, str | None]:
        """A new run's first event, in the caller's transaction, if the thread is
        `owner`'s (else NoSuchThread), and the message the thread shows now."""
        now = utcnow()
        params = {"b_thread": thread_id, "b_count": 1, "b_now": now, "b_owner": owner}
        row = (await session.execute(_NEXT_SEQS_POSTING, params)).first()
        if row is None:
            raise NoSuchThread(thread_id)
        envelopes = self.envelopes(thread_id, run_id, [event], row[0], now)
        await self.insert(session, envelopes)
        return envelopes[0], row[1]

    async def append_in(
        self,
        session: AsyncSession,
        thread_id: str,
        run_id: str,
        events: Sequence[AgentEvent],
        *,
        owner: str | None = None,
        answered: tuple[str, str] | None = None,
    ) -> list[Envelope]:
        """Like `append`, inside the caller's transaction (committed by the caller).
        With `owner`, raises NoSuchThread unless the thread is that user's. `answered`
        (question id, answer id): the thread shows the answer if it showed the question."""
        now = utcnow()
        params = {"b_thread": thread_id, "b_count": len(events), "b_now": now}
        if answered is None and owner is None:
            last = await self.take_seqs(session, thread_id, len(events), now)
        elif answered is not None:
            question, answer = answered
            last = await session.scalar(
                _NEXT_SEQS_ANSWERED, {**params, "b_question": question, "b_answer": answer}
            )
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

    @staticmethod
    def envelopes(
        thread_id: str, run_id: str, events: Sequence[AgentEvent], first: int, now: datetime
    ) -> list[Envelope]:
        """`events` numbered from seq `first`."""
        envelopes = []
        for offset, event in enumerate(events):
            kind, payload = split_event(event)
            envelopes.append(Envelope(kind, thread_id, run_id, first + offset, now, payload))
        return envelopes

    @staticmethod
    async def insert(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        """Every row in one statement (executemany); none, no statement."""
        if not envelopes:
            return
        await session.execute(
            _INSERT_EVENTS,
            [
                {
                    "thread_id": e.thread_id,
                    "seq": e.seq,
                    "run_id": e.run_id,
                    "type": e.type,
                    "payload": e.payload,
                    "ts": e.ts,
                }
                for e in envelopes
            ],
        )

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
