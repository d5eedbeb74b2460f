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
    system_prompt: str,
    history: Sequence[ChatTurn],
    message: str,
    attachments: Sequence[Attachment] = (),
    *,
    vision: bool = False,
) -> list[dict[str, Any]]:
    """The conversation as chat-completion messages (the `openai` and `local` providers);
    the new message carries its attachments (see `user_content`)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    messages.extend({"role": turn.role, "content": turn.content} for turn in history)
    messages.append({"role": "user", "content": user_content(message, attachments, vision)})
    return messages


def user_content(
    message: str, attachments: Sequence[Attachment], vision: bool
) -> str | list[dict[str, Any]]:
    """The message with its files: a small file's text whole, a larger one by name (for
    `search_documents`), an image as an `image_url` part for a model with `vision` and as
    a note saying it cannot be seen for any other."""
    notes: list[str] = []
    images: list[dict[str, Any]] = []
    for item in attachments:
        label = f"Attached file {item.name!r} ({item.content_type}, {item.size} bytes)"
        if item.is_image and vision and item.image_url:
            images.append({"type": "image_url", "image_url": {"url": item.image_url}})
            notes.append(f"{label}: the image follows.")
        elif item.is_image:
            notes.append(f"{label}: an image, which this model cannot see; say so if asked.")
        elif item.text is not None:
            partial = f" ({item.note})" if item.note else ""
            notes.append(f"{label}{partial}:\n<<<\n{item.text}\n>>>")
        else:
            notes.append(f"{label}: too long to include; use search_documents to read it.")
    text = "\n\n".join([message, *notes]) if notes else message
    if not images:
        return text
    return [{"type": "text", "text": text}, *images]


@dataclass(frozen=True)
class MessageHit:
    """A message of the asking user's, found by the search tool."""

    thread_id: str
    thread_title: str
    message_id: str
    role: str
    content: str
    created_at: datetime


@dataclass(frozen=True)
class DocumentHit:
    """A passage of one of the asking user's files, found by `search_documents`."""

    file_id: str
    file_name: str
    thread_id: str
    page: int | None
    passage: str
    this_thread: bool


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message a run answers, as the model is given it: its
    whole text when small (`text`), an image as a data URL (`image_url`), else only its
    name (the model reaches its text through `search_documents`)."""

    file_id: str
    name: str
    content_type: str
    size: int
    text: str | None = None
    image_url: str | None = None
    note: str | None = None  # why its text is partial

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class UserData(Protocol):
    """The asking user's own data, as the backend exposes it to tools: nobody else's."""

    async def search_messages(self, query: str, limit: int) -> list[MessageHit]: ...

    async def search_documents(self, query: str, limit: int) -> list[DocumentHit]: ...

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
    # The files attached to the message this run answers.
    attachments: tuple[Attachment, ...] = ()
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
