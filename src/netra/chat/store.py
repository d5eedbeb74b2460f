"""Threads and messages, always through their owner: another user's id reads as absent."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.chat.models import Message, Run, RunEvent, Thread
from netra.db.base import utcnow


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Posted:
    """The result of posting a message: new, or the earlier one with this client_msg_id."""

    message: Message
    run: Run
    created: bool
    after_seq: int


def encode_cursor(message: Message) -> str:
    raw = f"{message.created_at.isoformat()}|{message.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, message_id = raw.split("|", 1)
        return datetime.fromisoformat(stamp), message_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor(f"cursor {cursor!r} is not one this server issued") from exc


class ThreadStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def create(self, user_id: str, title: str) -> Thread:
        async with self.sessions.begin() as session:
            thread = Thread(user_id=user_id, title=title, last_seq=0, updated_at=utcnow())
            session.add(thread)
        return thread

    async def get(self, user_id: str, thread_id: str) -> Thread | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
            )

    async def list_for(self, user_id: str, limit: int, offset: int) -> list[Thread]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Thread)
                .where(Thread.user_id == user_id)
                .order_by(Thread.updated_at.desc(), Thread.id)
                .limit(limit)
                .offset(offset)
            )
            return list(rows)

    async def rename(self, user_id: str, thread_id: str, title: str) -> Thread | None:
        async with self.sessions.begin() as session:
            thread = await session.scalar(
                select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id)
            )
            if thread is not None:
                thread.title = title
                thread.updated_at = utcnow()
            return thread

    async def delete(self, user_id: str, thread_id: str) -> bool:
        async with self.sessions.begin() as session:
            thread = await session.scalar(
                select(Thread.id).where(Thread.id == thread_id, Thread.user_id == user_id)
            )
            if thread is None:
                return False
            # Explicit deletes: SQLite enforces ON DELETE CASCADE only with a pragma.
            for table in (Message, Run):
                await session.execute(delete(table).where(table.thread_id == thread_id))
            await session.execute(delete(RunEvent).where(RunEvent.thread_id == thread_id))
            await session.execute(delete(Thread).where(Thread.id == thread_id))
            return True

    async def run(self, user_id: str, run_id: str) -> Run | None:
        """The run, if it belongs to one of the user's threads."""
        async with self.sessions() as session:
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
        async with self.sessions() as session:
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
        thread_id: str,
        text: str,
        client_msg_id: str | None,
        *,
        provider: str,
        instance: str,
        lease_until: datetime,
    ) -> Posted:
        """Store a user message and its queued run, once per (thread, client_msg_id)."""
        if client_msg_id is not None:
            earlier = await self._earlier(thread_id, client_msg_id)
            if earlier is not None:
                return earlier
        try:
            async with self.sessions.begin() as session:
                after_seq = await session.scalar(
                    select(Thread.last_seq).where(Thread.id == thread_id)
                )
                message = Message(
                    thread_id=thread_id, role="user", content=text, client_msg_id=client_msg_id
                )
                session.add(message)
                await session.flush()
                run = Run(
                    thread_id=thread_id,
                    user_message_id=message.id,
                    status="queued",
                    provider=provider,
                    instance_id=instance,
                    lease_expires_at=lease_until,
                )
                session.add(run)
                await session.flush()
                message.run_id = run.id
        except IntegrityError:
            # Two tabs raced with one client_msg_id: the other insert won.
            if client_msg_id is None:
                raise
            earlier = await self._earlier(thread_id, client_msg_id)
            if earlier is None:
                raise
            return earlier
        return Posted(message, run, True, int(after_seq or 0))

    async def _earlier(self, thread_id: str, client_msg_id: str) -> Posted | None:
        async with self.sessions() as session:
            message = await session.scalar(
                select(Message).where(
                    Message.thread_id == thread_id, Message.client_msg_id == client_msg_id
                )
            )
            if message is None or message.run_id is None:
                return None
            run = await session.get(Run, message.run_id)
            if run is None:
                return None
            # Read the thread's last seq before looking for the run's first event: if the
            # run has none yet, all of its events will come after that.
            last = await session.scalar(select(Thread.last_seq).where(Thread.id == thread_id))
            first = await session.scalar(
                select(func.min(RunEvent.seq)).where(RunEvent.run_id == run.id)
            )
            if first is None:
                return Posted(message, run, False, int(last or 0))
            return Posted(message, run, False, int(first) - 1)
