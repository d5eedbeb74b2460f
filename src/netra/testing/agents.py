"""`ScriptedAgent`: a real `Agent` (netra.agents.runtime) whose behaviour the message
picks, so a test can make a run slow, hang, crash or stream a lot on demand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from netra.agents.events import (
    AgentCompleted,
    AgentEvent,
    AgentStarted,
    AgentThinking,
    MessageDelta,
    ToolCompleted,
    ToolExecuting,
)
from netra.agents.runtime import ChatTurn, RunContext


class ScriptedAgent:
    """Answers by echoing; words in the message change its behaviour: `slow` (a delay per
    delta), `hang` (never answers), `crash` (a tool raises inside the provider), `search`
    (a tool reads the user's data), `bulk N` (N deltas of 1000 characters first)."""

    name = "scripted"

    async def probe(self) -> str:
        return "scripted test agent"

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        yield AgentStarted(provider=self.name)
        yield AgentThinking(text=f"{len(history)} earlier turns")
        if "hang" in message:
            await asyncio.sleep(3600)
        if "crash" in message:
            yield ToolExecuting(call_id="c1", tool="explode", arguments={})
            raise RuntimeError("tool explode raised ValueError: boom")
        if "search" in message:
            hits = await context.data.search_messages("search", 10)
            yield ToolExecuting(call_id="c1", tool="search", arguments={"q": "search"})
            yield ToolCompleted(call_id="c1", tool="search", result=len(hits), duration_ms=1)
        if message.startswith("bulk"):
            for _ in range(int(message.split()[1])):
                yield MessageDelta(text="x" * 1000)
        words = [f"{w} " for w in f"you said: {message}".split()]
        for word in words:
            if "slow" in message:
                await asyncio.sleep(0.05)
            yield MessageDelta(text=word)
        yield AgentCompleted(text="".join(words), duration_ms=1.0)
