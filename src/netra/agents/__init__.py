"""The agent runtime: the event model, tools and providers."""

from netra.agents.events import (
    AgentCompleted,
    AgentError,
    AgentEvent,
    AgentStarted,
    AgentThinking,
    MessageDelta,
    ToolCompleted,
    ToolExecuting,
    Usage,
    parse_event,
)

__all__ = [
    "AgentCompleted",
    "AgentError",
    "AgentEvent",
    "AgentStarted",
    "AgentThinking",
    "MessageDelta",
    "ToolCompleted",
    "ToolExecuting",
    "Usage",
    "parse_event",
]
