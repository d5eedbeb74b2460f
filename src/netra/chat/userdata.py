"""The asking user's own data, as tools see it (netra.agents.runtime.UserData)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.runtime import ChatTurn, DocumentHit, MessageHit
from netra.agents.tools import ToolError
from netra.chat.errors import EmptyQuery, QueryTooLong
from netra.chat.models import FileChunk, messages_table, threads_table
from netra.chat.search import Hit, SearchIndex


class ChatUserData:
    """Reads only threads whose owner is `user_id`."""

    def __init__(self, db: async_sessionmaker[AsyncSession], user_id: str, thread_id: str) -> None:
        self.db = db
        self.user_id = user_id
        self.thread_id = thread_id

    async def search_messages(self, query: str, limit: int) -> list[MessageHit]:
        """The same ranked full-text index as `GET /api/search`, messages only."""
        try:
            page = await SearchIndex(self.db).search(
                self.user_id, query, limit=limit, kinds=("message",)
            )
        except (EmptyQuery, QueryTooLong) as exc:
            raise ToolError(exc.message) from exc
        return [
            MessageHit(
                hit.thread_id,
                hit.title,
                hit.message_id or "",
                hit.role or "",
                hit.snippet,
                hit.created_at,
            )
            for hit in page.hits
        ]

    async def search_documents(self, query: str, limit: int) -> list[DocumentHit]:
        """Passages of the user's files, this thread's first, through the same index as
        `GET /api/search` (files only); each with its file's name and page to cite."""
        index = SearchIndex(self.db)
        try:
            hits = (
                await index.search(
                    self.user_id, query, limit=limit, kinds=("file",), thread_id=self.thread_id
                )
            ).hits
            if len(hits) < limit:
                seen = {hit.chunk_id for hit in hits}
                wider = await index.search(self.user_id, query, limit=limit, kinds=("file",))
                hits += [hit for hit in wider.hits if hit.chunk_id not in seen]
        except (EmptyQuery, QueryTooLong) as exc:
            raise ToolError(exc.message) from exc
        return await self._passages(hits[:limit])

    async def _passages(self, hits: list[Hit]) -> list[DocumentHit]:
        ids = [hit.chunk_id for hit in hits if hit.chunk_id]
        async with self.db() as session:
            rows = await session.execute(
                select(FileChunk.id, FileChunk.page, FileChunk.content).where(FileChunk.id.in_(ids))
            )
            chunks = {row.id: (row.page, row.content) for row in rows}
        return [
            DocumentHit(
                hit.file_id or "",
                hit.title,
                hit.thread_id,
                chunks[hit.chunk_id][0],
                chunks[hit.chunk_id][1],
                hit.thread_id == self.thread_id,
            )
            for hit in hits
            if hit.chunk_id in chunks
        ]

    async def thread_history(self, excluding: str = "") -> list[ChatTurn]:
        """The thread's messages, oldest first (without the message `excluding`)."""
        params = {"b_thread": self.thread_id, "b_user": self.user_id, "b_excluding": excluding}
        async with self.db() as session:
            rows = await session.execute(_HISTORY, params)
            return [
                ChatTurn("assistant" if role == "assistant" else "user", content)
                for role, content in rows
            ]


# Built once: every run reads its thread's history.
_HISTORY = (
    select(messages_table.c.role, messages_table.c.content)
    .join(threads_table, threads_table.c.id == messages_table.c.thread_id)
    .where(
        messages_table.c.thread_id == bindparam("b_thread"),
        threads_table.c.user_id == bindparam("b_user"),
        messages_table.c.id != bindparam("b_excluding"),
    )
    .order_by(messages_table.c.created_at, messages_table.c.id)
)
