"""Agent runs as tasks owned by the backend process, not by any connection: closing a
socket does not stop a run, cancel does. Each instance renews the lease of its runs;
any instance fails a run whose lease expired (its instance crashed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.events import AgentCompleted, AgentError, AgentEvent, MessageDelta
from netra.agents.runtime import Agent, RunContext
from netra.chat.bus import EventBus, Notice
from netra.chat.eventlog import Envelope, EventLog
from netra.chat.models import Message, Run
from netra.chat.store import Posted
from netra.chat.userdata import ChatUserData
from netra.db.base import utcnow
from netra.settings import Settings

log = logging.getLogger("netra.chat.runs")
ACTIVE = ("queued", "running")
Item = AgentEvent | Exception | None
FINISHED = ("completed", "failed", "cancelled")


class RunManager:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        events: EventLog,
        bus: EventBus,
        agent: Agent | None,
        instance_id: str,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.events = events
        self.bus = bus
        self.agent = agent
        self.instance_id = instance_id
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.cancel_reasons: dict[str, str] = {}
        self.stopping = False

    def lease_until(self) -> Any:
        return utcnow() + timedelta(seconds=self.settings.run_lease)

    def start(self, posted: Posted, user_id: str) -> None:
        run = posted.run
        task = asyncio.create_task(
            self._execute(run.id, run.thread_id, user_id, posted.message.content),
            name=f"run-{run.id}",
        )
        self.tasks[run.id] = task
        task.add_done_callback(lambda _: self.tasks.pop(run.id, None))

    async def cancel(self, run_id: str, reason: str = "cancelled by the user") -> None:
        """Stop a run wherever it executes."""
        if not self._cancel_local(run_id, reason):
            await self.bus.publish(Notice("cancel", self.instance_id, run_id=run_id))

    def on_notice(self, notice: Notice) -> None:
        if notice.kind == "cancel":
            self._cancel_local(notice.run_id, "cancelled by the user")

    def _cancel_local(self, run_id: str, reason: str) -> bool:
        task = self.tasks.get(run_id)
        if task is None:
            return False
        self.cancel_reasons.setdefault(run_id, reason)
        task.cancel()
        return True

    async def _execute(self, run_id: str, thread_id: str, user_id: str, text: str) -> None:
        terminal: AgentCompleted | AgentError
        try:
            terminal = await self._drive(run_id, thread_id, user_id, text)
        except TimeoutError:
            terminal = AgentError(
                reason=f"the agent did not finish within {self.settings.run_timeout:g}s",
                code="timeout",
            )
        except asyncio.CancelledError:
            reason = self.cancel_reasons.pop(run_id, "the run was cancelled")
            terminal = AgentError(reason=reason, code="cancelled")
        except Exception as exc:
            log.exception("run %s failed", run_id)
            terminal = AgentError(reason=f"the agent failed: {exc}", code="provider_error")
        try:
            await self._finish(run_id, thread_id, terminal)
        except Exception:
            log.exception("could not record the end of run %s", run_id)

    async def _drive(
        self, run_id: str, thread_id: str, user_id: str, text: str
    ) -> AgentCompleted | AgentError:
        data = ChatUserData(self.sessions, user_id, thread_id)
        await self._mark_running(run_id)
        if self.agent is None:
            return AgentError(
                reason="no agent provider is available on this server", code="internal"
            )
        history = await data.thread_history()
        if history and history[-1].role == "user" and history[-1].content == text:
            history = history[:-1]
        context = RunContext(user_id, thread_id, run_id, data)
        queue: asyncio.Queue[Item] = asyncio.Queue()
        async with asyncio.timeout(self.settings.run_timeout):
            pump = asyncio.create_task(_pump(self.agent.run(history, text, context), queue))
            try:
                return await self._persist(thread_id, run_id, queue)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump

    async def _persist(
        self, thread_id: str, run_id: str, queue: asyncio.Queue[Item]
    ) -> AgentCompleted | AgentError:
        """Store and publish events as they come; whatever queued up while the previous
        batch was being written goes in one transaction (deltas merged)."""
        while True:
            items = [await queue.get()]
            while not queue.empty():
                items.append(queue.get_nowait())
            events: list[AgentEvent] = []
            end: Item = None
            for item in items:
                if item is None or isinstance(item, Exception | AgentCompleted | AgentError):
                    end = item
                    break
                events.append(item)
            if events:
                await self._emit(thread_id, run_id, coalesce(events))
            if isinstance(end, Exception):
                raise end
            if isinstance(end, AgentCompleted | AgentError):
                return end
            if end is None and len(events) < len(items):
                return AgentError(reason="the agent stopped without an answer", code="internal")

    async def _emit(self, thread_id: str, run_id: str, events: list[AgentEvent]) -> None:
        envelopes = await self.events.append(thread_id, run_id, events)
        await self._publish(envelopes)

    async def _publish(self, envelopes: list[Envelope]) -> None:
        if envelopes:
            first, last = envelopes[0], envelopes[-1]
            await self.bus.publish(
                Notice(
                    "events",
                    self.instance_id,
                    thread_id=first.thread_id,
                    first_seq=first.seq,
                    last_seq=last.seq,
                    envelopes=tuple(envelopes),
                )
            )

    async def _mark_running(self, run_id: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    status="running",
                    started_at=utcnow(),
                    instance_id=self.instance_id,
                    lease_expires_at=self.lease_until(),
                )
            )

    async def _finish(
        self, run_id: str, thread_id: str, terminal: AgentCompleted | AgentError
    ) -> None:
        """The terminal event, the run's status and the answer, in one transaction."""
        async with self.sessions.begin() as session:
            changed = await session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status.in_(ACTIVE))
                .values(**_outcome(terminal), finished_at=utcnow(), lease_expires_at=None)
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                return  # already failed by a sweeper: its agent_error is the last word
            if isinstance(terminal, AgentCompleted):
                session.add(
                    Message(
                        thread_id=thread_id, role="assistant", content=terminal.text, run_id=run_id
                    )
                )
            envelopes = await self.events.append_in(session, thread_id, run_id, [terminal])
        await self._publish(envelopes)

    async def maintain(self) -> None:
        """Renew this instance's leases and fail runs whose lease expired, forever."""
        while True:
            await asyncio.sleep(self.settings.run_lease / 3)
            try:
                await self.renew()
                await self.sweep()
            except Exception:
                log.exception("run lease maintenance failed; retrying")

    async def renew(self) -> None:
        if not self.tasks:
            return
        async with self.sessions.begin() as session:
            await session.execute(
                update(Run)
                .where(Run.id.in_(list(self.tasks)), Run.status.in_(ACTIVE))
                .values(lease_expires_at=self.lease_until())
            )

    async def sweep(self) -> int:
        """Fail every active run whose lease expired; returns how many."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Run.id, Run.thread_id).where(
                    Run.status.in_(ACTIVE), Run.lease_expires_at < utcnow()
                )
            )
            orphans = [(run_id, thread_id) for run_id, thread_id in rows.all()]
        for run_id, thread_id in orphans:
            if run_id in self.tasks:
                continue
            error = AgentError(
                reason="the server running this answer stopped; send the message again",
                code="internal",
            )
            await self._finish(run_id, thread_id, error)
        return len(orphans)

    async def shutdown(self, grace: float = 5.0) -> None:
        """Interrupt every local run, recording why, so none stays 'running'."""
        self.stopping = True
        tasks = list(self.tasks.items())
        for run_id, _ in tasks:
            self._cancel_local(run_id, "the server restarted during this answer; send it again")
        if tasks:
            await asyncio.wait([task for _, task in tasks], timeout=grace)


def _terminal(event: AgentEvent | None) -> bool:
    return isinstance(event, AgentCompleted | AgentError)


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


async def _pump(stream: AsyncIterator[AgentEvent], queue: asyncio.Queue[Item]) -> None:
    """Move the agent's events into `queue`, ending with the terminal event, None (the
    agent just stopped) or the exception it raised."""
    try:
        async with _closing(stream):
            async for event in stream:
                queue.put_nowait(event)
                if _terminal(event):
                    return
    except Exception as exc:
        queue.put_nowait(exc)
        return
    queue.put_nowait(None)


def _outcome(terminal: AgentCompleted | AgentError) -> dict[str, Any]:
    if isinstance(terminal, AgentCompleted):
        return {"status": "completed", "usage": terminal.usage.model_dump(), "error": None}
    status = "cancelled" if terminal.code == "cancelled" else "failed"
    return {"status": status, "error": terminal.reason}


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[AgentEvent]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
