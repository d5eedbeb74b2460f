"""The agent runtime in isolation: a user's data in memory, run contexts, collected runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from netra.agents import AgentEvent, AgentRun, ChatTurn, MessageHit, RunContext
from netra.agents.runtime import DocumentHit

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class StoredMessage:
    user_id: str
    thread_id: str
    content: str
    role: str = "user"


@dataclass
class MemoryUserData:
    """The `UserData` protocol over a list, scoped to one user like the backend's is."""

    user_id: str
    thread_id: str
    messages: list[StoredMessage] = field(default_factory=list)

    async def search_messages(self, query: str, limit: int) -> list[MessageHit]:
        words = query.lower().split()
        own = [m for m in self.messages if m.user_id == self.user_id]
        found = [m for m in own if all(word in m.content.lower() for word in words)]
        return [
            MessageHit(m.thread_id, f"thread {m.thread_id}", f"m{i}", m.role, m.content, NOW)
            for i, m in enumerate(found[:limit])
        ]

    async def search_documents(self, query: str, limit: int) -> list[DocumentHit]:
        return []  # no files in memory: the chat suites upload real ones

    async def thread_history(self) -> list[ChatTurn]:
        return [
            ChatTurn("user" if m.role == "user" else "assistant", m.content)
            for m in self.messages
            if m.user_id == self.user_id and m.thread_id == self.thread_id
        ]


def make_context(data: MemoryUserData | None = None, timezone: str = "UTC") -> RunContext:
    data = data or MemoryUserData("alice", "t1")
    return RunContext(data.user_id, data.thread_id, "run-1", data, timezone)


async def collect(run: AgentRun | AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    return [event async for event in run]
