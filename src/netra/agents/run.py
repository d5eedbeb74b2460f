"""One agent run with its guarantees: a time limit, cancellation from anywhere, and
exactly one terminal event (`agent_completed` or `agent_error`) as the last event.

Providers only have to yield events; whatever they do (raise, hang, stop early, keep
going after their answer) the backend sees a well-formed run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from netra.agents.approvals import Decision, Paused, Resumable, Step
from netra.agents.events import TERMINAL_TYPES, AgentError, AgentStarted
from netra.agents.runtime import Agent, ChatTurn, RunContext

log = logging.getLogger(__name__)

# Seconds a provider may run between its events without suspending before its run
# yields to the loop (docs/architecture.md, Performance).
YIELD_AFTER = 0.005


class ProviderError(Exception):
    """A provider's failure with a reason written for the user (never a secret)."""

    def __init__(
        self,
        reason: str,
        code: Literal[
            "provider_error", "tool_error", "timeout", "internal", "quota_exceeded"
        ] = "provider_error",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class _PumpEnded:
    """Queue marker: the provider's task has finished, one way or another."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task


class _DeadlinePassed:
    """Queue marker: the run's time limit has passed."""


@dataclass(frozen=True)
class Resumption:
    """Where a paused run goes on from: its provider's checkpoint and the answer."""

    checkpoint: dict[str, Any]
    decision: Decision


class AgentRun:
    """Iterate it (once) for the run's events; call `cancel()` from any task to stop it.
    A run may also end with `Paused` (waiting for an approval, netra.agents.approvals)
    instead of a terminal event; a `resuming` run goes on from such a pause.

    The provider runs in its own task, so a cancel or the deadline stops it wherever it
    is (a model stream, a tool) and closes its upstream stream; the iterator then ends
    with `agent_error` (code `cancelled` or `timeout`). Closing the iterator early, or
    cancelling the task that consumes it, also stops the provider, without a terminal
    event (nobody is left to receive it).
    """

    def __init__(
        self,
        agent: Agent,
        history: Sequence[ChatTurn],
        message: str,
        context: RunContext,
        *,
        timeout: float,
        stop_grace: float = 5.0,
        announced: bool = False,
        resuming: Resumption | None = None,
    ) -> None:
        self.agent = agent
        self.resuming = resuming
        self.stop_grace = stop_grace
        self.announced = announced
        self._history = history
        self._message = message
        self._context = context
        self._timeout = timeout
        self._queue: asyncio.Queue[Step | _PumpEnded | _DeadlinePassed] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._cancel_reason: str | None = None
        self._started = False

    def cancel(self, reason: str = "The run was cancelled.") -> None:
        """Stop the run; its iterator ends with `agent_error(code="cancelled")`."""
        if self._cancel_reason is None:
            self._cancel_reason = reason
        if self._task is not None:
            self._task.cancel()

    def __aiter__(self) -> AsyncIterator[Step]:
        if self._started:
            raise RuntimeError("an AgentRun can be iterated once")
        self._started = True
        return self._events()

    async def _events(self) -> AsyncIterator[Step]:
        started = time.perf_counter()
        # One timer for the whole run (not one per event): it queues a marker, so the
        # deadline holds even for a provider that ignores cancellation.
        expiry = asyncio.get_running_loop().call_later(
            self._timeout, self._queue.put_nowait, _DeadlinePassed()
        )
        self._task = asyncio.create_task(self._pump(), name=f"agent-run-{self._context.run_id}")
        self._task.add_done_callback(lambda task: self._queue.put_nowait(_PumpEnded(task)))
        if self._cancel_reason is not None:
            self._task.cancel()
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _DeadlinePassed):
                    yield AgentError(
                        reason=f"The agent did not finish within {self._timeout:g} seconds.",
                        code="timeout",
                    )
                    return
                if isinstance(item, _PumpEnded):
                    yield self._ending(item.task, time.perf_counter() - started)
                    return
                yield item
                if isinstance(item, Paused) or item.type in TERMINAL_TYPES:
                    return
        finally:
            expiry.cancel()
            await self._stop()

    def _source(self) -> AsyncIterator[Step]:
        if self.resuming is None:
            return self.agent.run(self._history, self._message, self._context)
        if not isinstance(self.agent, Resumable):
            raise ProviderError(f"the {self.agent.name} agent cannot resume a paused run")
        resuming = self.resuming
        return self.agent.resume(resuming.checkpoint, resuming.decision, self._context)

    async def _pump(self) -> None:
        events = self._source()
        skip_started = self.announced
        ran_since = time.perf_counter()
        try:
            async for event in events:
                if skip_started and isinstance(event, AgentStarted):
                    # The caller recorded the first one already. A later one is a
                    # fallback model taking over (netra.agents.catalog.agents): kept.
                    skip_started = False
                    continue
                self._queue.put_nowait(event)
                if isinstance(event, Paused) or event.type in TERMINAL_TYPES:
                    return
                # A provider that does not suspend would hold the loop (other runs, the
                # sockets) until its end: it yields once it has run for YIELD_AFTER. One
                # that is done sooner (the builtin agent) runs to its end at once, so its
                # events are written in one transaction.
                if time.perf_counter() - ran_since >= YIELD_AFTER:
                    await asyncio.sleep(0)
                    ran_since = time.perf_counter()
        finally:
            # Closing the provider's generator is what closes its upstream stream.
            closer = getattr(events, "aclose", None)
            if closer is not None:
                await closer()

    def _ending(self, task: asyncio.Task[None], elapsed: float) -> AgentError:
        """The terminal event for a provider task that ended without giving one."""
        if task.cancelled():
            return AgentError(
                reason=self._cancel_reason or "The run was cancelled.", code="cancelled"
            )
        error = task.exception()
        if isinstance(error, ProviderError):
            return AgentError(reason=error.reason, code=error.code)
        if error is not None:
            log.error(
                "agent %s failed after %.0f ms",
                self.agent.name,
                elapsed * 1000,
                exc_info=(type(error), error, error.__traceback__),
            )
            return AgentError(
                reason=f"The agent failed unexpectedly ({type(error).__name__}).", code="internal"
            )
        return AgentError(reason="The agent stopped without an answer.", code="internal")

    async def _stop(self) -> None:
        """Cancel the provider and wait for it to close, but not for ever: a provider
        that ignores cancellation must not hold the consumer past the run's end."""
        task = self._task
        if task is None:
            return
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=self.stop_grace)
        if not task.done():
            log.warning("agent %s ignored cancellation; left running", self.agent.name)
        elif not task.cancelled():
            task.exception()  # seen: no "exception never retrieved" at shutdown


def run_agent(
    agent: Agent,
    history: Sequence[ChatTurn],
    message: str,
    context: RunContext,
    *,
    timeout: float,
    announced: bool = False,
    resuming: Resumption | None = None,
) -> AgentRun:
    """Start describing a run: `async for event in run_agent(...)`; `run.cancel()` stops it.

    Guarantees: events arrive in the provider's order; the last one is exactly one of
    `agent_completed`/`agent_error`; the run ends within `timeout` seconds (plus the time
    the provider takes to close); the provider is closed whichever way the run ends.
    `announced=True`: the caller already recorded `started_event(agent)`, so the
    provider's own `agent_started` is left out. `resuming`: go on from a pause (the
    history and message are then in its checkpoint).
    """
    return AgentRun(
        agent,
        history,
        message,
        context,
        timeout=timeout,
        announced=announced,
        resuming=resuming,
    )


def started_event(agent: Agent) -> AgentStarted:
    """The `agent_started` that opens a run of `agent`, for a caller that records it with
    the user's message, before the provider has done anything (the chat backend)."""
    model = getattr(agent, "model", None)  # providers that name a model expose it
    return AgentStarted(provider=agent.name, model=model if isinstance(model, str) else None)
