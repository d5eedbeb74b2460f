"""The agent runtime: the event model, tools and providers.

The backend's entry points: `create_agent(settings)` once, then per run
`run = run_agent(agent, history, message, context, timeout=settings.run_timeout)`,
`async for event in run: ...` and `run.cancel()` to stop it. See docs/agents.md.
"""

from netra.agents.builtin_tools import default_tools
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
from netra.agents.factory import create_agent
from netra.agents.providers.local import LocalModelMissing
from netra.agents.run import AgentRun, ProviderError, run_agent, started_event
from netra.agents.runtime import Agent, ChatTurn, MessageHit, RunContext, UserData
from netra.agents.tools import Tool, ToolError, ToolRegistry, tool

__all__ = [
    "Agent",
    "AgentCompleted",
    "AgentError",
    "AgentEvent",
    "AgentRun",
    "AgentStarted",
    "AgentThinking",
    "ChatTurn",
    "LocalModelMissing",
    "MessageDelta",
    "MessageHit",
    "ProviderError",
    "RunContext",
    "Tool",
    "ToolCompleted",
    "ToolError",
    "ToolExecuting",
    "ToolRegistry",
    "Usage",
    "UserData",
    "create_agent",
    "default_tools",
    "parse_event",
    "run_agent",
    "started_event",
    "tool",
]
