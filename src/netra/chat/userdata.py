"""The asking user's own data, as tools see it (netra.agents.runtime.UserData)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.runtime import ChatTurn, MessageHit
from netra.chat.models import Message, Thread


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ChatUserData:
    """Reads only threads whose owner is `user_id`."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], user_id: str, thread_id: str
    ) -> None:
        self.sessions = sessions
        self.user_id = user_id
        self.thread_id = thread_id

    async def search_messages(self, query: str, limit: int) -> list[MessageHit]:
        pattern = f"%{_escape_like(query.strip())}%"
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message, Thread.title)
                .join(Thread, Thread.id == Message.thread_id)
                .where(Thread.user_id == self.user_id, Message.content.ilike(pattern, escape="\\"))
                .order_by(Message.created_at.desc())
                .limit(max(1, min(limit, 100)))
            )
            return [
                MessageHit(m.thread_id, title, m.id, m.role, m.content, m.created_at)
                for m, title in rows.all()
            ]

    async def thread_history(self) -> list[ChatTurn]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Message)
                .join(Thread, Thread.id == Message.thread_id)
                .where(Message.thread_id == self.thread_id, Thread.user_id == self.user_id)
                .order_by(Message.created_at, Message.id)
            )
            return [
                ChatTurn("assistant" if m.role == "assistant" else "user", m.content) for m in rows
            ]
