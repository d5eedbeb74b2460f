"""The builtin agent: offline, deterministic and instant. It plans with `planner.plan`,
calls the real tools and streams an answer built from their results."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from netra.agents.events import (
    AgentCompleted,
    AgentEvent,
    AgentStarted,
    AgentThinking,
    MessageDelta,
    ToolCompleted,
    ToolExecuting,
)
from netra.agents.planner import Plan, plan
from netra.agents.runtime import ChatTurn, RunContext
from netra.agents.tools import ToolRegistry

CAPABILITIES = (
    "I'm Netra's built-in assistant and work offline. I can:\n"
    '- do arithmetic ("what is 17 * 23?")\n'
    '- tell the date and time ("what time is it in Europe/Paris?")\n'
    '- search your own messages ("search for invoice")\n'
    '- summarize this thread ("summarize this thread")\n'
    "Choose an LLM provider (AGENT_PROVIDER=openai or local) for open conversation."
)


class BuiltinAgent:
    """A planner over the tools; what it answers depends only on the message and data."""

    name = "builtin"

    def __init__(self, tools: ToolRegistry) -> None:
        self.tools = tools

    async def probe(self) -> str:
        return f"builtin planner over {len(self.tools)} tools"

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        started = time.perf_counter()
        yield AgentStarted(provider=self.name)
        step = plan(message)
        if step is None or self.tools.offered(step.tool, context) is None:
            answer = CAPABILITIES
        else:
            article = "an" if step.intent[:1] in "aeiou" else "a"
            yield AgentThinking(
                text=f"This looks like {article} {step.intent} request: using {step.tool}."
            )
            call_id = f"call_{uuid.uuid4().hex[:12]}"
            yield ToolExecuting(call_id=call_id, tool=step.tool, arguments=step.arguments)
            outcome = await self.tools.call(step.tool, step.arguments, context, call_id)
            yield outcome
            answer = render(step, outcome)
        for piece in _pieces(answer):
            yield MessageDelta(text=piece)
        elapsed = (time.perf_counter() - started) * 1000
        yield AgentCompleted(text=answer, duration_ms=elapsed)


def render(step: Plan, outcome: ToolCompleted) -> str:
    """The answer text for a tool's outcome, error included."""
    if outcome.error is not None:
        return f"I couldn't do that: {outcome.error}"
    result: Any = outcome.result
    if step.intent == "arithmetic":
        return f"{step.arguments['expression']} = {_number(result)}"
    if step.intent == "time":
        return f"It is {result['text']} ({result['timezone']})."
    if step.intent == "search":
        return _search_answer(step.arguments["query"], result)
    return _summary_answer(result)


def _number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:,}" if isinstance(value, int) and abs(value) < 10**15 else str(value)


def _search_answer(query: str, hits: list[dict[str, Any]]) -> str:
    if not hits:
        return f'I found no messages of yours mentioning "{query}".'
    lines = [f'I found {len(hits)} message(s) of yours mentioning "{query}":']
    for hit in hits:
        title = hit["thread_title"] or "untitled thread"
        lines.append(f"- in \u201c{title}\u201d ({hit['created_at'][:10]}): {hit['snippet']}")
    return "\n".join(lines)


def _summary_answer(summary: dict[str, Any]) -> str:
    if not summary["messages"]:
        return "This thread has no earlier messages to summarize."
    lines = [
        f"This thread has {summary['messages']} message(s): "
        f"{summary['user_messages']} from you, {summary['assistant_messages']} from me."
    ]
    if summary["points"]:
        lines.append("You asked about:")
        lines.extend(f"- {point}" for point in summary["points"])
    return "\n".join(lines)


def _pieces(text: str) -> list[str]:
    """Word-sized deltas, so clients exercise the same streaming path as with an LLM."""
    return re.findall(r"\S+\s*|\s+", text)
