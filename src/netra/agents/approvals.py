"""Pausing a run for a person's approval and resuming it later, possibly in another
process: a provider that meets a tool marked `requires_approval` yields `Paused`: the
`approval_required` event and everything it needs to go on (JSON). The caller records
both at once and, once answered, asks the agent to `resume` from it with the `Decision`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from netra.agents.events import AgentEvent, ApprovalRequired, ToolCompleted

if TYPE_CHECKING:  # netra.agents.runtime names `Paused` in the Agent interface
    from netra.agents.runtime import RunContext


@dataclass(frozen=True)
class Paused:
    """Not an event: the provider's last item when it stops to wait for an approval.
    `asked` is the event to record; `checkpoint` is JSON the same provider's `resume`
    takes back."""

    asked: ApprovalRequired
    checkpoint: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    """The answer to one approval: a person's, or the timeout's (declined)."""

    approved: bool
    note: str | None = None


Step = AgentEvent | Paused


@runtime_checkable
class Resumable(Protocol):
    """An agent that can pause for approvals (the openai provider, the catalog's models)."""

    def resume(
        self, checkpoint: dict[str, Any], decision: Decision, context: RunContext
    ) -> AsyncIterator[Step]: ...


def declined(call_id: str, tool: str, note: str | None) -> ToolCompleted:
    """What the model reads for a call nobody approved: an error result, and the run goes on."""
    error = f"declined by the user: {note}" if note else "declined by the user"
    return ToolCompleted(call_id=call_id, tool=tool, error=error, duration_ms=0.0)


def cannot_ask(call_id: str, tool: str) -> ToolCompleted:
    """A call needing approval in a run that cannot wait for one (no chat backend)."""
    error = f"The tool {tool} requires approval, which this run cannot ask for."
    return ToolCompleted(call_id=call_id, tool=tool, error=error, duration_ms=0.0)
