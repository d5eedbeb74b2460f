"""The agent interface: a run takes the thread's history and the new message and yields
events. Providers (builtin, openai, local) implement it; the chat backend drives it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from netra.agents.approvals import Paused
from netra.agents.events import AgentEvent, Usage


@dataclass(frozen=True)
class ChatTurn:
    role: Literal["user", "assistant"]
    content: str


def build_messages(
    system_prompt: str, history: Sequence[ChatTurn], message: str
) -> list[dict[str, Any]]:
    """The conversation as chat-completion messages (the `openai` and `local` providers)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    messages.extend({"role": turn.role, "content": turn.content} for turn in history)
    messages.append({"role": "user", "content": message})
    return messages


@dataclass(frozen=True)
class MessageHit:
    """A message of the asking user's, found by the search tool."""

    thread_id: str
    thread_title: str
    message_id: str
    role: str
    content: str
    created_at: datetime


class UserData(Protocol):
    """The asking user's own data, as the backend exposes it to tools: nobody else's."""

    async def search_messages(self, query: str, limit: int) -> list[MessageHit]: ...

    async def thread_history(self) -> list[ChatTurn]: ...


@dataclass(frozen=True)
class RunContext:
    user_id: str
    thread_id: str
    run_id: str
    data: UserData
    timezone: str = "UTC"
    # The asking user's roles: which tools the run may offer (an MCP server's `roles`).
    roles: frozenset[str] = frozenset({"user"})
    # Told the usage of each model call as it ends; raises `ProviderError` (code
    # quota_exceeded) to stop the run there, before any tool or further call.
    meter: Callable[[Usage], Awaitable[None]] | None = None
    # Whether the caller persists a paused run (netra.agents.approvals): the chat backend
    # does; elsewhere a tool marked `requires_approval` answers the model with an error.
    can_pause: bool = False
    # The thread's assistant (netra.chat.assistants): its instructions replace the
    # provider's system prompt when set, and only the tools it names are offered and
    # callable (None: every tool the user may have).
    instructions: str = ""
    tools: frozenset[str] | None = None

    def system_prompt(self, default: str) -> str:
        """The system prompt of this run: the assistant's instructions, else `default`."""
        return self.instructions or default


class Agent(Protocol):
    """One provider behind the one interface. Cancelling the consumer (or `aclose()` on
    the iterator) must stop the run and close any upstream stream."""

    name: str

    async def probe(self) -> str:
        """Prove the provider can answer (readiness): a sentence saying so, or an
        exception whose message says what is wrong."""
        ...

    def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent | Paused]:
        """The run's events; it may end with `Paused` instead of a terminal event when
        `context.can_pause` (netra.agents.approvals)."""
        ...
