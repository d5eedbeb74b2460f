"""Threads and messages, always through their owner: another user's id reads as absent."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.events import AgentEvent
from netra.chat.errors import BadCursor, NoSuchThread, RunActive
from netra.chat.eventlog import Envelope, EventLog
from netra.chat.models import (
    ACTIVE,
    Message,
    Run,
    RunEvent,
    Thread,
    insert_values,
    messages_table,
    runs_table,
)
from netra.db.base import new_id, utcnow


@dataclass(frozen=True)
class Posted:
    """The result of posting a message: new, or the earlier one with this client_msg_id.
    A new one comes with its run's first event, committed with it and not yet published."""

    message: Message
    run: Run
    created: bool
    after_seq: int
    events: tuple[Envelope, ...] = ()


def encode_cursor(message: Message) -> str:
    raw = f"{message.created_at.isoformat()}|{message.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, message_id = raw.split("|", 1)
        moment = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor(cursor) from exc
    if moment.tzinfo is None:  # every cursor this server issues carries its UTC offset
        raise BadCursor(cursor)
    return moment, message_id


class ThreadStore:
    def __init__(self, db: async_sessionmaker[AsyncSession], events: EventLog) -> None:
        self.db = db
        self.events = events

    async def create(
        self,
        user_id: str,
        title: str,
        model: str | None = None,
        assistant_id: str | None = None,
    ) -> Thread:
        async with self.db.begin() as session:
            thread = Thread(
                user_id=user_id,
                title=title,
                last_seq=0,
                updated_at=utcnow(),
                model=model,
                assistant_id=assistant_id,
            )
            session.add(thread)
        return thread

    async def get(self, user_id: str, thread_id: str) -> Thread | None:
        async with self.db() as session:
            return await session.scalar(
                select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
            )

    async def list_for(self, user_id: str, limit: int, offset: int) -> list[Thread]:
        async with self.db() as session:
            rows = await session.scalars(
                select(Thread)
                .where(Thread.user_id == user_id)
                .order_by(Thread.updated_at.desc(), Thread.id)
                .limit(limit)
                .offset(offset)
            )
            return list(rows)

    async def update(
        self, user_id: str, thread_id: str, changes: dict[str, str | None]
    ) -> Thread | None:
        """Set `title`, `model` and/or `assistant_id` (None: back to the catalog's
        default model, the builtin assistant)."""
        async with self.db.begin() as session:
            thread = await session.scalar(
                select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
            )
            if thread is not None:
                if changes.get("title") is not None:
                    thread.title = str(changes["title"])
                if "model" in changes:
                    thread.model = changes["model"]
                if "assistant_id" in changes:
                    thread.assistant_id = changes["assistant_id"]
                thread.updated_at = utcnow()
            return thread

    async def delete(self, user_id: str, thread_id: str) -> bool:
        # Messages, runs and events go with it: ON DELETE CASCADE (SQLite connections
        # turn foreign keys on in netra.db.engine).
        async with self.db.begin() as session:
            gone = await session.execute(
                delete(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
            )
            return bool(getattr(gone, "rowcount", 0))

    async def active_runs(self, thread_id: str) -> list[str]:
        async with self.db() as session:
            rows = await session.scalars(
                select(Run.id).where(Run.thread_id == thread_id, Run.status.in_(ACTIVE))
            )
            return list(rows)

    async def run(self, user_id: str, run_id: str) -> Run | None:
        """The run, if it belongs to one of the user's threads."""
        async with self.db() as session:
            run: Run | None = await session.scalar(
                select(Run)
                .join(Thread, Thread.id == Run.thread_id)
                .where(Run.id == run_id, Thread.user_id == user_id)
            )
            return run

    async def messages(
        self, thread_id: str, limit: int, after: str | None
    ) -> tuple[list[Message], str | None]:
        """Oldest first; the cursor of the page's last message continues after it."""
        query = select(Message).where(Message.thread_id == thread_id)
        if after is not None:
            stamp, message_id = decode_cursor(after)
            query = query.where(
                or_(
                    Message.created_at > stamp,
                    and_(Message.created_at == stamp, Message.id > message_id),
                )
            )
        async with self.db() as session:
            rows = list(
                await session.scalars(
                    query.order_by(Message.created_at, Message.id).limit(limit + 1)
                )
            )
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1]) if more and rows else None

    async def post(
        self,
        user_id: str,
        thread_id: str,
        text: str,
        client_msg_id: str | None,
        *,
        started: AgentEvent,
        provider: str,
        instance: str,
        model: str | None = None,
        lease_until: datetime,
        admitted_on: date | None = None,
    ) -> Posted | None:
        """Store a user message, its run and the run's first event (`started`, with the
        thread's next seq) in one transaction, once per (thread, client_msg_id). None if
        the user has no such thread."""
        try:
            async with self.db.begin() as session:
                if client_msg_id is not None:
                    earlier = await _earlier(session, user_id, thread_id, client_msg_id)
                    if earlier is not None:
                        return earlier
                message, run = _new_turn(thread_id, text, client_msg_id)
                run.provider, run.model, run.instance_id = provider, model, instance
                run.lease_expires_at, run.admitted_on = lease_until, admitted_on
                # First the thread's row: it checks the owner, takes the next seq and
                # holds the row's lock (PostgreSQL) until commit.
                events = await self.events.append_in(
                    session, thread_id, run.id, [started], owner=user_id
                )
                # Under that lock: one run per thread at a time (rolled back if not).
                active = await session.scalar(_ACTIVE_RUN, {"b_thread": thread_id})
                if active is not None:
                    raise RunActive(active, thread_id)
                await session.execute(_INSERT_MESSAGE, insert_values(message))
                await session.execute(_INSERT_RUN, insert_values(run))
        except NoSuchThread:
            return None
        except RunActive:
            # The active run may be this very message's, posted by another tab with the
            # same client_msg_id while this one waited for the thread's lock.
            if client_msg_id is None:
                raise
            async with self.db() as session:
                earlier = await _earlier(session, user_id, thread_id, client_msg_id)
            if earlier is None:
                raise
            return earlier
        except IntegrityError:
            # Two tabs raced with one client_msg_id: the other insert won (the unique
            # constraint on (thread, client_msg_id)); this transaction left no trace.
            if client_msg_id is None:
                raise
            async with self.db() as session:
                earlier = await _earlier(session, user_id, thread_id, client_msg_id)
            if earlier is None:
                raise
            return earlier
        return Posted(message, run, True, events[0].seq - 1, tuple(events))


_INSERT_MESSAGE = insert(messages_table)
_INSERT_RUN = insert(runs_table)
_ACTIVE_RUN = (
    select(runs_table.c.id)
    .where(runs_table.c.thread_id == bindparam("b_thread"), runs_table.c.status.in_(ACTIVE))
    .limit(1)
)


def _new_turn(thread_id: str, text: str, client_msg_id: str | None) -> tuple[Message, Run]:
    """A user message and its run, ids chosen here so one INSERT each writes them."""
    now = utcnow()
    message = Message(
        id=new_id(),
        thread_id=thread_id,
        role="user",
        content=text,
        client_msg_id=client_msg_id,
        run_id=new_id(),
        created_at=now,
    )
    run = Run(
        id=message.run_id,
        thread_id=thread_id,
        user_message_id=message.id,
        # Started at once by this instance (its lease covers a crash before the next
        # event): no separate "mark running" write.
        status="running",
        started_at=now,
        created_at=now,
    )
    return message, run


async def _earlier(
    session: AsyncSession, user_id: str, thread_id: str, client_msg_id: str
) -> Posted | None:
    """The message the user already posted with this client_msg_id, its run and where
    its events start; None if there is none."""
    message = await session.scalar(
        select(Message)
        .join(Thread, Thread.id == Message.thread_id)
        .where(
            Message.thread_id == thread_id,
            Message.client_msg_id == client_msg_id,
            Thread.user_id == user_id,
        )
    )
    if message is None or message.run_id is None:
        return None
    run = await session.get(Run, message.run_id)
    if run is None:
        return None
    # Read the thread's last seq before looking for the run's first event: if the run has
    # none yet, all of its events will come after that.
    last = await session.scalar(select(Thread.last_seq).where(Thread.id == thread_id))
    first = await session.scalar(select(func.min(RunEvent.seq)).where(RunEvent.run_id == run.id))
    if first is None:
        return Posted(message, run, False, int(last or 0))
    return Posted(message, run, False, int(first) - 1)
