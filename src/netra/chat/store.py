"""Threads and messages, always through their owner: another user's id reads as absent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.events import AgentEvent
from netra.chat import tree
from netra.chat.envelope import Envelope
from netra.chat.errors import NoSuchMessage, NoSuchThread, NotAnAnswer, RunActive
from netra.chat.eventlog import EventLog
from netra.chat.message_pages import MessagePage, page
from netra.chat.models import (
    ACTIVE,
    Message,
    Run,
    RunEvent,
    Thread,
    insert_values,
    new_row,
    runs_table,
)
from netra.chat.write_group import Post
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
    # The message attaches files (its run reads them); a regenerated question's may.
    attached: bool = True
    # Its run waits for a worker (netra.chat.run_queue): acknowledged as `queued`.
    queued: bool = False

    @property
    def status(self) -> str:
        """What the ack says of the run: `queued` (waiting for a worker), else its
        stored status (`running` for a new run)."""
        return "queued" if self.queued else self.run.status


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
            return await session.scalar(_USERS_THREAD, {"b_thread": thread_id, "b_user": user_id})

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
        self, thread_id: str, limit: int, after: str | None, *, every: bool = False
    ) -> MessagePage:
        """The shown branch, root first, or (`every`) every message, oldest first; the
        cursor of the page's last message continues after it."""
        async with self.db() as session:
            return await page(session, thread_id, limit, after, every=every)

    async def siblings(self, message: Message) -> list[str]:
        """The message's siblings, itself included, oldest first."""
        async with self.db() as session:
            return await tree.siblings(session, message.thread_id, message.parent_id)

    async def show_branch(self, user_id: str, thread_id: str, message_id: str) -> Thread:
        """Show the branch through `message_id` (down to its newest message)."""
        async with self.db.begin() as session:
            thread = await session.scalar(
                select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
            )
            if thread is None:
                raise NoSuchThread(thread_id)
            thread.active_leaf_id = await tree.show_branch(session, thread_id, message_id)
        return thread

    async def answer(self, user_id: str, message_id: str) -> Message:
        """The user's answer `message_id`, to regenerate: NoSuchMessage, or NotAnAnswer
        for a question (or an answer to nothing, which only an import can make)."""
        async with self.db() as session:
            message = await session.scalar(
                select(Message)
                .join(Thread, Thread.id == Message.thread_id)
                .where(Message.id == message_id, Thread.user_id == user_id)
            )
        if message is None:
            raise NoSuchMessage(message_id)
        if message.role != "assistant" or message.parent_id is None:
            raise NotAnAnswer(message_id, "edit a question (post it with parent_id) instead")
        return message

    async def regenerate(
        self,
        user_id: str,
        answer: Message,
        *,
        started: AgentEvent,
        provider: str,
        instance: str,
        model: str | None = None,
        lease_until: datetime,
        admitted_on: date | None = None,
    ) -> Posted:
        """A new run for the question `answer` answered, whose answer will be its sibling;
        the thread shows the question meanwhile. RunActive while the thread's run goes."""
        thread_id = answer.thread_id
        async with self.db.begin() as session:
            question = await session.get(Message, answer.parent_id)
            if question is None:
                raise NotAnAnswer(answer.id, "the question it answered is gone")
            run = _new_run(
                thread_id,
                question.id,
                utcnow(),
                provider=provider,
                model=model,
                instance_id=instance,
                lease_expires_at=lease_until,
                admitted_on=admitted_on,
            )
            events = await self.events.append_in(
                session, thread_id, run.id, [started], owner=user_id
            )
            active = await session.scalar(_ACTIVE_RUN, {"b_thread": thread_id})
            if active is not None:
                raise RunActive(active, thread_id)
            await session.execute(_INSERT_RUN, insert_values(run))
            await tree.show(session, thread_id, question.id)
        return Posted(question, run, True, events[0].seq - 1, tuple(events))

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
        file_ids: Sequence[str] = (),
        parent_id: str | tree.Shown | None = tree.SHOWN_LEAF,
    ) -> Posted | None:
        """Store a user message, its run and the run's first event (`started`, with the
        thread's next seq) in one transaction (netra.chat.write_group), once per (thread,
        client_msg_id); the thread then shows the message. None if the user has no such
        thread. The message follows `parent_id` (None: a new root; default: what the
        thread shows)."""
        message, run = _new_turn(
            thread_id,
            text,
            client_msg_id,
            provider=provider,
            model=model,
            instance_id=instance,
            lease_expires_at=lease_until,
            admitted_on=admitted_on,
        )
        job = Post(user_id, message, run, started, parent_id, tuple(file_ids))
        try:
            # A repeated client_msg_id is found below: its run is the thread's active one
            # (RunActive) or its message is stored (IntegrityError).
            first: Envelope = await self.events.submit(job)
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
        return Posted(message, run, True, first.seq - 1, (first,), attached=bool(file_ids))


_USERS_THREAD = select(Thread).where(
    Thread.id == bindparam("b_thread"), Thread.user_id == bindparam("b_user")
)
_INSERT_RUN = insert(runs_table)
_ACTIVE_RUN = (
    select(runs_table.c.id)
    .where(runs_table.c.thread_id == bindparam("b_thread"), runs_table.c.status.in_(ACTIVE))
    .limit(1)
)


def _new_turn(
    thread_id: str, text: str, client_msg_id: str | None, **run: Any
) -> tuple[Message, Run]:
    """A user message and its run (`run`: more of its columns), ids chosen here so one
    INSERT each writes them."""
    now, message_id, run_id = utcnow(), new_id(), new_id()
    message = new_row(
        Message,
        id=message_id,
        thread_id=thread_id,
        role="user",
        content=text,
        client_msg_id=client_msg_id,
        run_id=run_id,
        created_at=now,
    )
    return message, _new_run(thread_id, message_id, now, run_id, **run)


def _new_run(
    thread_id: str, question_id: str, now: datetime, run_id: str | None = None, **run: Any
) -> Run:
    """A run answering `question_id` (`run`: more of its columns), with `run_id` or a new id."""
    return new_row(
        Run,
        id=run_id or new_id(),
        thread_id=thread_id,
        user_message_id=question_id,
        # Started at once by this instance (its lease covers a crash before the next
        # event): no separate "mark running" write.
        status="running",
        started_at=now,
        created_at=now,
        **run,
    )


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
