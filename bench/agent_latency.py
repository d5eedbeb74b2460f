"""Time from run start to `agent_started` and to the first `message_delta`, builtin agent.

Prints percentiles for the runtime's `run_agent` wrapper (what the backend calls) and, as
the baseline in the same run, for iterating the provider directly (no wrapper task).
Usage: uv run python bench/agent_latency.py [runs]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from netra.agents import AgentEvent, ChatTurn, MessageHit, RunContext, default_tools, run_agent
from netra.agents.providers.builtin import BuiltinAgent

QUESTIONS = ("what is 17 * 23?", "what time is it in Europe/Paris?", "search for invoice", "hi")


class SampleData:
    """A few messages of one user, in memory: the bench measures the runtime, not a DB."""

    async def search_messages(self, query: str, limit: int) -> list[MessageHit]:
        now = datetime.now(UTC)
        return [MessageHit("t1", "Bills", "m1", "user", "the invoice from March", now)][:limit]

    async def thread_history(self) -> list[ChatTurn]:
        return [ChatTurn("user", "hello")]


Starter = Callable[[BuiltinAgent, str, RunContext], AsyncIterator[AgentEvent]]


async def measure(start: Starter, runs: int) -> tuple[list[float], list[float]]:
    agent = BuiltinAgent(default_tools())
    context = RunContext("u1", "t1", "r1", SampleData())
    to_started: list[float] = []
    to_delta: list[float] = []
    for index in range(runs):
        question = QUESTIONS[index % len(QUESTIONS)]
        began = time.perf_counter()
        first_delta = None
        async for event in start(agent, question, context):
            now = time.perf_counter()
            if event.type == "agent_started":
                to_started.append((now - began) * 1e6)
            elif event.type == "message_delta" and first_delta is None:
                first_delta = now
                to_delta.append((now - began) * 1e6)
    return to_started, to_delta


def wrapped(agent: BuiltinAgent, question: str, context: RunContext) -> AsyncIterator[AgentEvent]:
    return aiter(run_agent(agent, [], question, context, timeout=30))


def direct(agent: BuiltinAgent, question: str, context: RunContext) -> AsyncIterator[AgentEvent]:
    return agent.run([], question, context)


def line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"{label:<44} p50 {p50:8.1f} µs   p95 {p95:8.1f} µs   n={len(ordered)}"


async def main(runs: int) -> None:
    await measure(wrapped, 200)  # warm-up: imports, first-call caches
    for label, starter in (
        ("run_agent (wrapper)", wrapped),
        ("provider directly (baseline)", direct),
    ):
        started, delta = await measure(starter, runs)
        print(line(f"{label}: start -> agent_started", started))
        print(line(f"{label}: start -> first message_delta", delta))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
