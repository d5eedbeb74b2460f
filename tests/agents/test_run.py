"""The run wrapper's guarantees against providers that misbehave in every way we know."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

import pytest

from netra.agents import (
    AgentCompleted,
    AgentError,
    AgentEvent,
    AgentRun,
    AgentStarted,
    ChatTurn,
    MessageDelta,
    ProviderError,
    RunContext,
    run_agent,
    started_event,
)
from netra.agents.run import YIELD_AFTER
from tests.support.agents import collect


class ScriptedAgent:
    """A provider whose behaviour each test chooses; records whether it was closed."""

    name = "scripted"

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.closed = asyncio.Event()
        self.delivered = 0

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        try:
            yield AgentStarted(provider=self.name)
            if self.behaviour == "raises":
                raise KeyError("boom")
            if self.behaviour == "provider_error":
                raise ProviderError("The model server answered 500 and retries ran out.")
            if self.behaviour == "ignores_cancel":
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    self.delivered += 1  # shrugs off the first cancel, then hangs again
                await asyncio.sleep(3600)
            if self.behaviour in ("hangs", "streams_forever"):
                while True:
                    if self.behaviour == "streams_forever":
                        self.delivered += 1
                        yield MessageDelta(text="la ")
                    await asyncio.sleep(0.01 if self.behaviour == "streams_forever" else 3600)
            yield MessageDelta(text="hi")
            if self.behaviour == "no_terminal":
                return
            yield AgentCompleted(text="hi", duration_ms=1)
            if self.behaviour == "after_terminal":
                yield MessageDelta(text="extra")
                yield AgentError(reason="second terminal")
        finally:
            self.closed.set()


async def test_a_good_run_passes_through(context: RunContext) -> None:
    agent = ScriptedAgent("ok")
    events = await collect(run_agent(agent, [], "hi", context, timeout=5))
    assert [e.type for e in events] == ["agent_started", "message_delta", "agent_completed"]
    assert agent.closed.is_set()


@pytest.mark.parametrize(
    ("behaviour", "code", "reason"),
    [
        ("raises", "internal", "The agent failed unexpectedly (KeyError)."),
        ("provider_error", "provider_error", "The model server answered 500"),
        ("no_terminal", "internal", "The agent stopped without an answer."),
        ("hangs", "timeout", "did not finish within 0.3 seconds"),
    ],
)
async def test_every_run_ends_with_one_terminal_event(
    context: RunContext, behaviour: str, code: str, reason: str
) -> None:
    agent = ScriptedAgent(behaviour)
    events = await collect(run_agent(agent, [], "hi", context, timeout=0.3))
    assert events[0].type == "agent_started"
    final = events[-1]
    assert isinstance(final, AgentError)
    assert final.code == code
    assert reason in final.reason
    assert [e.type for e in events].count("agent_error") == 1
    assert agent.closed.is_set()


async def test_a_provider_ignoring_cancellation_cannot_hold_the_run(
    context: RunContext,
) -> None:
    agent = ScriptedAgent("ignores_cancel")
    run = AgentRun(agent, [], "hi", context, timeout=0.2, stop_grace=0.2)
    events = await collect(run)
    final = events[-1]
    assert isinstance(final, AgentError)
    assert final.code == "timeout"
    assert agent.delivered == 1  # it was cancelled, and shrugged it off
    assert run._task is not None
    assert not run._task.done()
    run._task.cancel()  # a second cancel ends it
    with pytest.raises(asyncio.CancelledError):
        await run._task


async def test_events_after_the_terminal_one_are_dropped(context: RunContext) -> None:
    agent = ScriptedAgent("after_terminal")
    events = await collect(run_agent(agent, [], "hi", context, timeout=5))
    assert [e.type for e in events] == ["agent_started", "message_delta", "agent_completed"]


async def test_cancel_from_another_task_stops_the_provider(context: RunContext) -> None:
    agent = ScriptedAgent("streams_forever")
    run = run_agent(agent, [], "hi", context, timeout=30)
    events: list[AgentEvent] = []
    async for event in run:
        events.append(event)
        if len(events) == 5:
            asyncio.get_running_loop().call_soon(run.cancel, "Stopped by the user.")
    final = events[-1]
    assert isinstance(final, AgentError)
    assert (final.code, final.reason) == ("cancelled", "Stopped by the user.")
    assert agent.closed.is_set()
    delivered = agent.delivered
    await asyncio.sleep(0.05)
    assert agent.delivered == delivered


async def test_cancel_before_iterating(context: RunContext) -> None:
    agent = ScriptedAgent("ok")
    run = run_agent(agent, [], "hi", context, timeout=5)
    run.cancel()
    events = await collect(run)
    assert [e.type for e in events] == ["agent_error"]


async def test_consumer_leaving_early_closes_the_provider(context: RunContext) -> None:
    agent = ScriptedAgent("streams_forever")
    events = run_agent(agent, [], "hi", context, timeout=30).__aiter__()
    await anext(events)
    await anext(events)
    await events.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(agent.closed.wait(), 5)


async def test_cancelling_the_consumer_task_closes_the_provider(context: RunContext) -> None:
    agent = ScriptedAgent("streams_forever")
    consumer = asyncio.create_task(collect(run_agent(agent, [], "hi", context, timeout=30)))
    await asyncio.sleep(0.1)
    assert agent.delivered > 0
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await asyncio.wait_for(agent.closed.wait(), 5)


async def test_a_run_is_iterated_once(context: RunContext) -> None:
    run = run_agent(ScriptedAgent("ok"), [], "hi", context, timeout=5)
    await collect(run)
    with pytest.raises(RuntimeError, match="once"):
        run.__aiter__()


async def test_an_announced_run_leaves_out_the_providers_agent_started(
    context: RunContext,
) -> None:
    agent = ScriptedAgent("ok")
    events = await collect(run_agent(agent, [], "hi", context, timeout=5, announced=True))
    assert [e.type for e in events] == ["message_delta", "agent_completed"]


def test_started_event_names_the_provider_and_its_model() -> None:
    class Named(ScriptedAgent):
        model = "smollm2-135m"

    assert started_event(ScriptedAgent("ok")) == AgentStarted(provider="scripted")
    assert started_event(Named("ok")) == AgentStarted(provider="scripted", model="smollm2-135m")


class BusyAgent:
    """A provider that never suspends: it computes `spin` seconds before each of its
    events and notes how often another task has run by then."""

    name = "busy"

    def __init__(self, spin: float, ticks: list[int]) -> None:
        self.spin, self.ticks, self.seen = spin, ticks, []

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        for word in ("one ", "two ", "three ", "four "):
            until = time.perf_counter() + self.spin
            while time.perf_counter() < until:
                pass
            self.seen.append(len(self.ticks))
            yield MessageDelta(text=word)
        yield AgentCompleted(text="one two three four ", duration_ms=1)


async def _beside_ticker(agent: BusyAgent, ticks: list[int], context: RunContext) -> None:
    async def tick() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        events = await collect(run_agent(agent, [], "go", context, timeout=5))
    finally:
        ticker.cancel()
    assert [event.type for event in events][-1] == "agent_completed"


async def test_a_provider_done_at_once_runs_to_its_end_in_one_go(context: RunContext) -> None:
    # Its events reach the run's writer together: one transaction (docs/architecture.md).
    ticks: list[int] = []
    agent = BusyAgent(0.0, ticks)
    await _beside_ticker(agent, ticks, context)
    assert len(set(agent.seen)) == 1  # nothing else ran between its events


async def test_a_provider_that_computes_long_lets_others_run(context: RunContext) -> None:
    ticks: list[int] = []
    agent = BusyAgent(YIELD_AFTER * 2, ticks)
    await _beside_ticker(agent, ticks, context)
    assert agent.seen == sorted(agent.seen)
    assert len(set(agent.seen)) == len(agent.seen)  # others ran before each next event
