"""The asking user's own data, as tools see it (netra.agents.runtime.UserData)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.runtime import ChatTurn, DocumentHit, MessageHit
from netra.agents.tools import ToolError
from netra.chat import tree
from netra.chat.errors import EmptyQuery, QueryTooLong
from netra.chat.lookups import ReadAhead, TurnsLoader
from netra.chat.models import FileChunk
from netra.chat.search import Hit, SearchIndex


class ChatUserData:
    """Reads only threads whose owner is `user_id`."""

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        user_id: str,
        thread_id: str,
        question_id: str | None = None,
        turns: TurnsLoader | None = None,
        *,
        ahead: ReadAhead | None = None,
    ) -> None:
        self.db = db
        self.turns = turns  # reads the history with other runs' (netra.chat.lookups)
        self.ahead = ahead  # or read it already, while the run waited for a worker
        self.user_id = user_id
        self.thread_id = thread_id
        # The message the run answers (None: the thread's shown branch).
        self.question_id = question_id

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

    async def thread_history(self, before: bool = False) -> list[ChatTurn]:
        """The turns of the branch this run answers, root first, up to its question
        (`before`: without it); other branches are not the agent's to see."""
        if self.question_id is not None and self.ahead is not None:
            turns = tree.branch(await self.ahead, self.question_id, before=before)
        elif self.question_id is not None and self.turns is not None:
            thread = await self.turns.turns(self.user_id, self.thread_id)
            turns = tree.branch(thread, self.question_id, before=before)
        else:
            async with self.db() as session:
                start = self.question_id or await tree.shown_leaf(session, self.thread_id)
                if start is None:
                    return []
                turns = await tree.history(
                    session, self.user_id, self.thread_id, start, before=before
                )
        return [
            ChatTurn("assistant" if role == "assistant" else "user", text) for role, text in turns
        ]
