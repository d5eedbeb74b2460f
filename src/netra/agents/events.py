"""The one event model of an agent run, shared by the runtime, the backend, the SDK and
docs/protocol.md. Nothing else declares these shapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Event):
    """Token counts where the provider reports them."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    # True when the provider reported nothing and the runtime counted streamed tokens.
    estimated: bool = False


class AgentStarted(_Event):
    type: Literal["agent_started"] = "agent_started"
    provider: str
    model: str | None = None


class AgentThinking(_Event):
    """Reasoning or status text, shown in the run timeline."""

    type: Literal["agent_thinking"] = "agent_thinking"
    text: str


class ToolExecuting(_Event):
    type: Literal["tool_executing"] = "tool_executing"
    call_id: str
    tool: str
    arguments: dict[str, Any]


class ToolCompleted(_Event):
    """A tool's result, or the error it ended with (never both)."""

    type: Literal["tool_completed"] = "tool_completed"
    call_id: str
    tool: str
    result: Any = None
    error: str | None = None
    duration_ms: float


class ApprovalRequired(_Event):
    """The model called a tool marked `requires_approval`: the run waits (status
    `waiting`, no task held) until someone answers or APPROVAL_TIMEOUT passes."""

    type: Literal["approval_required"] = "approval_required"
    call_id: str
    tool: str
    arguments: dict[str, Any]


class ApprovalResolved(_Event):
    """The answer to an `approval_required`, whoever gave it (a person on any instance,
    or the timeout, which declines); the run resumes with it."""

    type: Literal["approval_resolved"] = "approval_resolved"
    call_id: str
    approved: bool
    note: str | None = None


class MessageDelta(_Event):
    """A piece of the answer text, in order."""

    type: Literal["message_delta"] = "message_delta"
    text: str


class AgentCompleted(_Event):
    type: Literal["agent_completed"] = "agent_completed"
    text: str
    usage: Usage = Field(default_factory=Usage)
    duration_ms: float


class AgentError(_Event):
    """The run ended without an answer; `reason` is written for the user."""

    type: Literal["agent_error"] = "agent_error"
    reason: str
    code: Literal[
        "cancelled", "timeout", "provider_error", "tool_error", "internal", "quota_exceeded"
    ] = "provider_error"


AgentEvent = Annotated[
    AgentStarted
    | AgentThinking
    | ToolExecuting
    | ToolCompleted
    | ApprovalRequired
    | ApprovalResolved
    | MessageDelta
    | AgentCompleted
    | AgentError,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)
TERMINAL_TYPES = frozenset({"agent_completed", "agent_error"})
EVENT_TYPES = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "approval_required",
    "approval_resolved",
    "message_delta",
    "agent_completed",
    "agent_error",
)


def parse_event(data: dict[str, Any]) -> AgentEvent:
    """An event from its JSON form (type plus payload fields)."""
    return EVENT_ADAPTER.validate_python(data)
