"""How a run reads its agent: the agent's events moved into a queue by a pump task
(so a run can wait on them and on cancellation at once), answer deltas merged before they
are written, and the stream closed whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from netra.agents.approvals import Paused, Step
from netra.agents.events import AgentCompleted, AgentError, AgentEvent, MessageDelta

Item = Step | Exception | None


def terminal(event: Step | None) -> bool:
    """The last item of a leg: a terminal event, or a pause for an approval."""
    return isinstance(event, AgentCompleted | AgentError | Paused)


MAX_MERGED_DELTA = 4096


def coalesce(events: list[AgentEvent]) -> list[AgentEvent]:
    """Consecutive answer deltas merged (up to a few KB each): fewer rows and frames,
    the same text in the same order."""
    merged: list[AgentEvent] = []
    for event in events:
        last = merged[-1] if merged else None
        if (
            isinstance(event, MessageDelta)
            and isinstance(last, MessageDelta)
            and len(last.text) + len(event.text) <= MAX_MERGED_DELTA
        ):
            merged[-1] = MessageDelta(text=last.text + event.text)
        else:
            merged.append(event)
    return merged


async def read_batches(
    queue: asyncio.Queue[Item],
    observe: Callable[[AgentEvent], object],
    emit: Callable[[list[AgentEvent]], Awaitable[None]],
) -> tuple[AgentCompleted | AgentError | Paused, list[AgentEvent]]:
    """The agent's events in batches: whatever queued up while the previous batch was
    being emitted (written and published) goes in one (deltas merged). Returns the
    terminal event (or pause) and the events that came with it, unemitted; an agent
    that stopped without one ends with an `internal` error; an exception the pump
    caught is raised once what came before it is emitted."""
    while True:
        items = [await queue.get()]
        while not queue.empty():
            items.append(queue.get_nowait())
        events: list[AgentEvent] = []
        for item in items:
            if isinstance(item, AgentCompleted | AgentError | Paused):
                return item, coalesce(events)
            if item is None:
                end = AgentError(reason="the agent stopped without an answer", code="internal")
                return end, coalesce(events)
            if isinstance(item, Exception):
                await emit(coalesce(events))
                raise item
            events.append(item)
            observe(item)
        await emit(coalesce(events))


async def pump(stream: AsyncIterator[Step], queue: asyncio.Queue[Item]) -> None:
    """Move the agent's events into `queue`, ending with the terminal event (or pause),
    None (the agent just stopped) or the exception it raised."""
    try:
        async with closing(stream):
            async for event in stream:
                queue.put_nowait(event)
                if terminal(event):
                    return
    except Exception as exc:
        queue.put_nowait(exc)
        return
    queue.put_nowait(None)


@contextlib.asynccontextmanager
async def closing(stream: AsyncIterator[Step]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
