"""A catalog model as an `Agent`: its provider, its context window and its fallback.

`ModelAgent.run` trims the history to the model's window (saying so in the run), and
when a model fails before any output it hands the message to its `fallback`, saying why
and opening the fallback's part with an `agent_started` naming it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from netra.agents.approvals import Decision, Paused, Resumable
from netra.agents.catalog.schema import ModelEntry
from netra.agents.context import fit_history
from netra.agents.events import (
    AgentError,
    AgentEvent,
    AgentStarted,
    AgentThinking,
    MessageDelta,
    ToolCompleted,
    ToolExecuting,
)
from netra.agents.run import ProviderError
from netra.agents.runtime import Agent, ChatTurn, RunContext
from netra.agents.tools import ToolRegistry

Notices = Callable[[], list[str]]
# Events after which a model has answered something: no fallback past them.
OUTPUT = (MessageDelta, ToolExecuting, ToolCompleted)


class UnavailableModel:
    """A declared model that could not be built (its local file is missing): readiness
    and every run say why; a fallback can still answer."""

    def __init__(self, provider: str, reason: str) -> None:
        self.name = provider
        self.reason = reason

    async def probe(self) -> str:
        raise ProviderError(self.reason)

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        raise ProviderError(self.reason)
        yield  # pragma: no cover - makes this an async generator


@dataclass
class Link:
    entry: ModelEntry
    agent: Agent


class ModelAgent:
    """The agent the backend runs for a catalog model (and its fallbacks)."""

    def __init__(self, chain: Sequence[Link], notices: Notices = lambda: []) -> None:
        """`notices`: what runs should be told before they start (MCP servers down)."""
        self.chain = list(chain)
        self.notices = notices
        first = self.chain[0]
        self.name: str = first.entry.provider
        # What `agent_started` names (netra.agents.run.started_event): the catalog id.
        self.model = first.entry.id
        self.entry = first.entry

    async def probe(self) -> str:
        return await self.chain[0].agent.probe()

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent | Paused]:
        failure: str | None = None
        for index, link in enumerate(self.chain):
            last = index == len(self.chain) - 1
            if failure is not None:
                yield AgentThinking(
                    text=f"{self.chain[index - 1].entry.title} failed before answering "
                    f"({failure}); answering with {link.entry.title} instead."
                )
            yield AgentStarted(provider=link.entry.provider, model=link.entry.id)
            if index == 0 and "tools" in self.entry.capabilities:
                for notice in self.notices():
                    yield AgentThinking(text=notice)
            fitted, note = _fit(link, history, message, context)
            if note:
                yield AgentThinking(text=note)
            failure = None
            answered = False
            events = link.agent.run(fitted, message, context)
            try:
                async with contextlib.aclosing(events):  # type: ignore[type-var]
                    async for event in events:
                        if isinstance(event, Paused):  # resumed by the model that paused
                            yield Paused(
                                event.asked, {"link": index, "checkpoint": event.checkpoint}
                            )
                            return
                        if isinstance(event, AgentStarted):
                            continue  # this wrapper announced the model above
                        if (
                            isinstance(event, AgentError)
                            and event.code == "provider_error"
                            and not answered
                            and not last
                        ):
                            failure = event.reason
                            break
                        answered = answered or isinstance(event, OUTPUT)
                        yield event
            except ProviderError as exc:
                if answered or last or exc.code != "provider_error":
                    raise
                failure = exc.reason
            if failure is None:
                return

    async def resume(
        self, checkpoint: dict[str, Any], decision: Decision, context: RunContext
    ) -> AsyncIterator[AgentEvent | Paused]:
        """Go on with the model of the chain that paused (no fallback past its output)."""
        index = int(checkpoint["link"])
        agent = self.chain[index].agent
        if not isinstance(agent, Resumable):
            raise ProviderError(f"the {agent.name} provider cannot resume a paused run")
        events = agent.resume(checkpoint["checkpoint"], decision, context)
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for event in events:
                if isinstance(event, Paused):
                    yield _linked(event, index)
                    return
                yield event


def _linked(paused: Paused, index: int) -> Paused:
    """A chain link's pause, remembering which link resumes it."""
    return Paused(paused.asked, {"link": index, "checkpoint": paused.checkpoint})


def _fit(
    link: Link, history: Sequence[ChatTurn], message: str, context: RunContext
) -> tuple[list[ChatTurn], str]:
    """The history that fits the model's window, and what the run should say if it
    had to leave turns out."""
    entry = link.entry
    fixed = [message, context.system_prompt(str(getattr(link.agent, "system_prompt", "")))]
    tools = getattr(link.agent, "tools", None)
    if isinstance(tools, ToolRegistry) and len(tools):
        fixed.append(tools.specs_text(context))
    fitted = fit_history(
        history,
        context_window=entry.context_window,
        reserved=entry.max_output_tokens or 0,
        fixed=fixed,
    )
    if not fitted.dropped:
        return fitted.history, ""
    turns = "turn" if fitted.dropped == 1 else "turns"
    return fitted.history, (
        f"Left out the {fitted.dropped} oldest {turns} of this thread to fit "
        f"{entry.title}'s context window of {entry.context_window} tokens."
    )
