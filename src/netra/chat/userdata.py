"""The asking user's own data, as tools see it (netra.agents.runtime.UserData)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.runtime import ChatTurn, MessageHit
from netra.agents.tools import ToolError
from netra.chat import tree
from netra.chat.errors import EmptyQuery, QueryTooLong
from netra.chat.search import SearchIndex


class ChatUserData:
    """Reads only threads whose owner is `user_id`."""

    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        user_id: str,
        thread_id: str,
        question_id: str | None = None,
    ) -> None:
        self.db = db
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

    async def thread_history(self, before: bool = False) -> list[ChatTurn]:
        """The turns of the branch this run answers, root first, up to its question
        (`before`: without it); other branches are not the agent's to see."""
        async with self.db() as session:
            start = self.question_id or await tree.shown_leaf(session, self.thread_id)
            if start is None:
                return []
            turns = await tree.history(session, self.user_id, self.thread_id, start, before=before)
        return [
            ChatTurn("assistant" if role == "assistant" else "user", text) for role, text in turns
        ]
