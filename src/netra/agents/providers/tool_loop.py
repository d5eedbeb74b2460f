"""The state of the openai provider's tool loop: what one streamed model call produced,
usage added up over the calls, and where the loop stands (JSON, so a run paused for an
approval goes on in another process: netra.agents.approvals)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from netra.agents.events import ToolCompleted, Usage
from netra.agents.toolcalls import ToolCallAccumulator, ToolCallRequest


@dataclass
class Step:
    """What one streamed model call produced."""

    text: str = ""
    chunks: int = 0
    content_chunks: int = 0
    finished: bool = False
    usage: Usage | None = None
    calls: ToolCallAccumulator = field(default_factory=ToolCallAccumulator)


@dataclass
class Totals:
    """Usage added up over the steps of a run."""

    input_tokens: int = 0
    output_tokens: int = 0
    reported: bool = True

    def add(self, step: Step) -> None:
        if step.usage is None:
            self.reported = False
            self.output_tokens += step.content_chunks
            return
        self.input_tokens += step.usage.input_tokens or 0
        self.output_tokens += step.usage.output_tokens or 0

    @staticmethod
    def counted(step: Step) -> Usage:
        """A step's usage when the server reported none."""
        return Usage(output_tokens=step.content_chunks, estimated=True)

    def usage(self) -> Usage:
        if self.reported:
            return Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens)
        # One streamed content chunk is one token on the servers we know.
        return Usage(output_tokens=self.output_tokens, estimated=True)


@dataclass
class Progress:
    """Where a run's tool loop stands; all of it JSON, so a run paused for an approval
    can go on in another process (netra.agents.approvals)."""

    messages: list[dict[str, Any]]
    answer: str = ""
    steps: int = 0
    totals: Totals = field(default_factory=Totals)
    # The current step's calls not yet answered, the first one next.
    pending: list[ToolCallRequest] = field(default_factory=list)
    # Time spent working before a pause (waiting for a person is not the run's time).
    elapsed_ms: float = 0.0

    def answered(self, outcome: ToolCompleted) -> None:
        call = self.pending.pop(0)
        self.messages.append(
            {"role": "tool", "tool_call_id": call.id, "content": tool_message(outcome)}
        )

    def checkpoint(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def restore(cls, checkpoint: dict[str, Any]) -> Progress:
        data = dict(checkpoint)
        data["totals"] = Totals(**data["totals"])
        data["pending"] = [ToolCallRequest(**call) for call in data["pending"]]
        return cls(**data)


def tool_message(outcome: ToolCompleted) -> str:
    """A tool's outcome as the `tool` message content the model reads next."""
    if outcome.error is not None:
        return json.dumps({"error": outcome.error})
    return json.dumps({"result": outcome.result}, default=str)
