"""A run's legs: a run paused for approvals is driven by several tasks, one after the
other and maybe on different instances; each drives one leg (netra.chat.runs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from netra.agents.approvals import Paused
from netra.agents.catalog.catalog import BUILTIN_ASSISTANT
from netra.agents.events import AgentCompleted, AgentError
from netra.agents.run import Resumption
from netra.chat.envelope import Envelope
from netra.chat.models import Message
from netra.usage.store import Admission

if TYPE_CHECKING:
    from netra.chat.assistants import Preset
    from netra.chat.store import Posted

Ending = AgentCompleted | AgentError | Paused


@dataclass(frozen=True)
class Leg:
    """What one task of a run drives: from the user's message to the end or a pause, or
    from an answered approval on (`resuming`). A run paused for approvals has several."""

    run_id: str
    thread_id: str
    user_id: str
    roles: frozenset[str]
    # Committed before the task and published first (agent_started; approval_resolved).
    published: tuple[Envelope, ...]
    # The thread's assistant (netra.chat.assistants): its id, instructions and tools.
    assistant: str = BUILTIN_ASSISTANT
    instructions: str = ""
    tools: frozenset[str] | None = None
    message: Message | None = None
    attached: bool = True  # the message attaches files (else none are looked up)
    # The user's message the run answers (its answer becomes that message's child).
    question: str | None = None
    resuming: Resumption | None = None
    admission: Admission | None = None

    @classmethod
    def of_message(
        cls,
        posted: Posted,
        user_id: str,
        roles: frozenset[str],
        preset: Preset,
        admission: Admission | None,
    ) -> Leg:
        """The first leg of a posted message's run: with the thread's assistant's
        instructions and tools, its `agent_started` to publish first."""
        run = posted.run
        return cls(
            run.id,
            run.thread_id,
            user_id,
            roles,
            tuple(posted.events),
            assistant=preset.id,
            instructions=preset.instructions,
            tools=None if preset.tools is None else frozenset(preset.tools),
            message=posted.message,
            attached=posted.attached,
            question=posted.message.id,
            admission=admission,
        )
