"""Agent runs as tasks owned by the backend process, not by any connection: closing a
socket does not stop a run, cancel does. Each instance renews the lease of its runs;
any instance fails a run whose lease expired (its instance crashed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.catalog import Catalog
from netra.agents.events import AgentCompleted, AgentError, AgentEvent
from netra.agents.run import run_agent, started_event
from netra.agents.runtime import Agent, RunContext
from netra.chat.agent_stream import Item, coalesce, pump
from netra.chat.assistants import BUILTIN, Preset
from netra.chat.bus import EventBus, Notice
from netra.chat.eventlog import Envelope, EventLog
from netra.chat.files import FileLibrary
from netra.chat.models import (
    ACTIVE,
    Message,
    Run,
    Thread,
    insert_values,
    messages_table,
    runs_table,
)
from netra.chat.store import Posted
from netra.chat.userdata import ChatUserData
from netra.db.base import new_id, utcnow
from netra.health.metrics import Metrics
from netra.settings import Settings
from netra.usage.meter import RunMeter
from netra.usage.store import Admission, UsageStore
from netra.usage.tally import Price, RunTally, price_for

log = logging.getLogger("netra.chat.runs")
tracer = trace.get_tracer("netra.chat.runs")
FINISHED = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Setup:
    """What a run is given: the agent, the asking user's roles, the thread's assistant."""

    agent: Agent
    roles: frozenset[str]
    preset: Preset


class RunManager:
    def __init__(
        self,
        *,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        events: EventLog,
        bus: EventBus,
        agent: Agent,
        instance_id: str,
        metrics: Metrics | None = None,
        usage: UsageStore | None = None,
        catalog: Catalog | None = None,
        files: FileLibrary | None = None,
    ) -> None:
        self.metrics = metrics if metrics is not None else Metrics()
        # Usage accounting (netra.usage); None keeps no usage (tests, the bench baseline).
        self.usage = usage
        self.settings = settings
        self.db = db
        self.events = events
        self.bus = bus
        self.agent = agent
        # The models' prices (MODELS_FILE); None: the agent's provider settings price it.
        self.catalog = catalog
        self.files = files  # what a message attaches, given to its run
        self.instance_id = instance_id
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.cancel_reasons: dict[str, str] = {}

    def lease_until(self) -> Any:
        return utcnow() + timedelta(seconds=self.settings.run_lease)

    def start(
        self,
        posted: Posted,
        user_id: str,
        agent: Agent | None = None,
        roles: Iterable[str] = ("user",),
        admission: Admission | None = None,
        *,
        preset: Preset = BUILTIN,
    ) -> None:
        """Run `agent` (default: this manager's) for a posted message; its
        `agent_started` (committed with the message) is published first, by the run's task.
        `admission`: the budget that let it in, which stops it when crossed. `preset`:
        the thread's assistant, whose instructions and tools the run has."""
        run = posted.run
        chosen = agent if agent is not None else self.agent
        setup = Setup(chosen, frozenset(roles), preset)
        work = self._execute(posted, user_id, setup, admission)
        task = asyncio.create_task(work, name=f"run-{run.id}")
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

    async def _execute(
        self,
        posted: Posted,
        user_id: str,
        setup: Setup,
        admission: Admission | None,
    ) -> None:
        run = posted.run
        # A child of the request that posted the message (the task copied its context):
        # the trace of one message holds its run, model calls and tool calls.
        attributes = {
            "netra.run.id": run.id,
            "netra.thread.id": run.thread_id,
            "gen_ai.agent.name": run.provider,
        }
        with tracer.start_as_current_span(
            f"invoke_agent {run.provider}", attributes=attributes
        ) as span:
            self.metrics.runs_active.inc()
            try:
                meter = self._meter(posted, user_id, setup, admission)
                outcome = await self._execute_traced(posted, meter, setup)
            finally:
                self.metrics.runs_active.dec()
            span.set_attribute("netra.run.outcome", outcome)
            if outcome != "completed":
                span.set_status(StatusCode.ERROR, outcome)

    def _meter(
        self, posted: Posted, user_id: str, setup: Setup, admission: Admission | None
    ) -> RunMeter:
        agent = setup.agent
        tally = RunTally(
            user_id,
            posted.run.thread_id,
            posted.run.id,
            provider=agent.name,
            model=started_event(agent).model or agent.name,  # the catalog id
            prompt_chars=len(posted.message.content),
            assistant=setup.preset.id,
            admitted_on=admission.day if admission is not None else None,
            email=admission.email if admission is not None else None,
        )
        return RunMeter(
            tally,
            metrics=self.metrics,
            price=self.price(tally.provider, tally.model),
            store=self.usage,
            admission=admission,
            pricing=self.price,
        )

    def price(self, provider: str, model: str) -> Price | None:
        """The catalog model's price, else its provider's settings' (OPENAI_PRICE_*)."""
        entry = self.catalog.model(model) if self.catalog is not None else None
        if entry is None:
            return price_for(self.settings, provider)
        return price_for(self.settings, provider, entry.price_in, entry.price_out)

    async def _execute_traced(self, posted: Posted, meter: RunMeter, setup: Setup) -> str:
        run_id, thread_id = posted.run.id, posted.run.thread_id
        terminal: AgentCompleted | AgentError
        last: list[AgentEvent] = []
        try:
            await self._publish(list(posted.events))
            terminal, last = await self._drive(meter, posted.message, setup)
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
            # The exception's text may name hosts or paths: it goes to the log only.
            terminal = AgentError(
                reason=f"the agent failed ({type(exc).__name__})", code="provider_error"
            )
        try:
            await self._finish(run_id, thread_id, terminal, last, meter, question=posted.message.id)
        except Exception:
            log.exception("could not record the end of run %s", run_id)
        return "completed" if isinstance(terminal, AgentCompleted) else terminal.code

    async def _drive(
        self, meter: RunMeter, message: Message, setup: Setup
    ) -> tuple[AgentCompleted | AgentError, list[AgentEvent]]:
        user_id, thread_id, run_id = meter.tally.user_id, meter.tally.thread_id, meter.tally.run_id
        data = ChatUserData(self.db, user_id, thread_id, message.id)
        history = await data.thread_history(before=True)
        meter.tally.prompt_chars += sum(len(turn.content) for turn in history)
        attached = await self.files.for_run(message.id) if self.files is not None else ()
        preset = setup.preset
        context = RunContext(
            user_id,
            thread_id,
            run_id,
            data,
            roles=setup.roles,
            meter=meter.check,
            instructions=preset.instructions,
            tools=None if preset.tools is None else frozenset(preset.tools),
            attachments=attached,
        )
        queue: asyncio.Queue[Item] = asyncio.Queue()
        # run_agent (netra.agents) enforces the time limit and ends every run with exactly
        # one terminal event; the outer timeout is only a backstop for a stuck close.
        limit = self.settings.run_timeout
        run = run_agent(
            setup.agent, history, message.content, context, timeout=limit, announced=True
        )
        async with asyncio.timeout(limit + 10):
            pumping = asyncio.create_task(pump(aiter(run), queue))
            try:
                return await self._persist(thread_id, run_id, queue, meter)
            finally:
                pumping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pumping

    async def _persist(
        self, thread_id: str, run_id: str, queue: asyncio.Queue[Item], meter: RunMeter
    ) -> tuple[AgentCompleted | AgentError, list[AgentEvent]]:
        """Store and publish events as they come; whatever queued up while the previous
        batch was being written goes in one transaction (deltas merged). Returns the
        terminal event and the events that came with it, for `_finish` to write at once."""
        while True:
            items = [await queue.get()]
            while not queue.empty():
                items.append(queue.get_nowait())
            events: list[AgentEvent] = []
            for item in items:
                if isinstance(item, AgentCompleted | AgentError):
                    return item, coalesce(events)
                if item is None:
                    end = AgentError(reason="the agent stopped without an answer", code="internal")
                    return end, coalesce(events)
                if isinstance(item, Exception):
                    await self._emit(thread_id, run_id, coalesce(events))
                    raise item
                events.append(item)
                meter.observe(item)
            await self._emit(thread_id, run_id, coalesce(events))

    async def _emit(self, thread_id: str, run_id: str, events: list[AgentEvent]) -> None:
        if events:
            await self._publish(await self.events.append(thread_id, run_id, events))

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

    async def _finish(
        self,
        run_id: str,
        thread_id: str,
        terminal: AgentCompleted | AgentError,
        last: Sequence[AgentEvent] = (),
        meter: RunMeter | None = None,
        *,
        question: str | None = None,
    ) -> None:
        """The run's last events and terminal event, its status and the answer to
        `question` (its child: shown if the question still is), in one transaction."""
        answered: tuple[str, str] | None = None
        async with self.db.begin() as session:
            params = {"b_run": run_id, "b_now": utcnow(), **_outcome(terminal)}
            ended = _COMPLETE_RUN if isinstance(terminal, AgentCompleted) else _FAIL_RUN
            changed = await session.execute(ended, params)
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                return  # already failed by a sweeper: its agent_error is the last word
            outcome = str(params["b_status"])
            self.metrics.runs.labels(outcome).inc()
            if meter is not None:
                await meter.record(session, terminal)
            if isinstance(terminal, AgentCompleted):
                self.metrics.run_duration.labels(outcome).observe(terminal.duration_ms / 1000)
                answer = Message(
                    id=new_id(),
                    thread_id=thread_id,
                    role="assistant",
                    content=terminal.text,
                    run_id=run_id,
                    created_at=utcnow(),
                    parent_id=question,
                )
                await session.execute(_INSERT_MESSAGE, insert_values(answer))
                if question is not None:
                    answered = (question, answer.id)
            events = [*last, terminal]
            envelopes = await self.events.append_in(
                session, thread_id, run_id, events, answered=answered
            )
        await self._publish(envelopes)

    async def stop(self, run_id: str, thread_id: str, reason: str, wait: float) -> None:
        """Cancel the run and wait until it has ended (its `agent_error` recorded). A run
        whose instance does not answer within `wait` seconds is ended from here."""
        await self.cancel(run_id, reason)
        task = self.tasks.get(run_id)
        if task is not None:
            await asyncio.wait({task}, timeout=wait)
            return
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            async with self.db() as session:
                status = await session.scalar(select(Run.status).where(Run.id == run_id))
            if status not in ACTIVE:
                return
            await asyncio.sleep(0.05)
        async with self.db() as session:
            found = (await session.execute(_RUN_AND_OWNER.where(Run.id == run_id))).first()
        meter = None if found is None else self._orphan_meter(*found)
        await self._finish(
            run_id, thread_id, AgentError(reason=reason, code="cancelled"), meter=meter
        )

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
        async with self.db.begin() as session:
            await session.execute(
                update(Run)
                .where(Run.id.in_(list(self.tasks)), Run.status.in_(ACTIVE))
                .values(lease_expires_at=self.lease_until())
            )

    async def sweep(self) -> int:
        """Fail every active run whose lease expired; returns how many."""
        async with self.db() as session:
            expired = Run.status.in_(ACTIVE), Run.lease_expires_at < utcnow()
            orphans = list((await session.execute(_RUN_AND_OWNER.where(*expired))).all())
        for run, user_id in orphans:
            if run.id in self.tasks:
                continue
            error = AgentError(
                reason="the server running this answer stopped; send the message again",
                code="internal",
            )
            await self._finish(run.id, run.thread_id, error, meter=self._orphan_meter(run, user_id))
        return len(orphans)

    def _orphan_meter(self, run: Run, user_id: str) -> RunMeter:
        """Records the usage of a run ended here for a dead instance, as its own would."""
        model = run.model or run.provider
        tally = RunTally(
            user_id,
            run.thread_id,
            run.id,
            provider=run.provider,
            model=model,
            admitted_on=run.admitted_on,
            started_at=run.started_at or run.created_at,
        )
        return RunMeter.orphan(
            tally,
            metrics=self.metrics,
            price=self.price(run.provider, model),
            store=self.usage,
            admitted_on=run.admitted_on,
        )

    async def shutdown(self, grace: float = 5.0) -> None:
        """Interrupt every local run, recording why, so none stays 'running'."""
        tasks = list(self.tasks.items())
        for run_id, _ in tasks:
            self._cancel_local(run_id, "the server restarted during this answer; send it again")
        if tasks:
            await asyncio.wait([task for _, task in tasks], timeout=grace)


_RUN_AND_OWNER = select(Run, Thread.user_id).join(Thread, Thread.id == Run.thread_id)
_FAIL_RUN = (
    update(runs_table)
    .where(runs_table.c.id == bindparam("b_run"), runs_table.c.status.in_(ACTIVE))
    .values(
        status=bindparam("b_status"),
        error=bindparam("b_error"),
        finished_at=bindparam("b_now"),
        lease_expires_at=None,
    )
)
_COMPLETE_RUN = _FAIL_RUN.values(usage=bindparam("b_usage"))
_INSERT_MESSAGE = insert(messages_table)


def _outcome(terminal: AgentCompleted | AgentError) -> dict[str, Any]:
    """The parameters of _COMPLETE_RUN or _FAIL_RUN."""
    if isinstance(terminal, AgentCompleted):
        return {"b_status": "completed", "b_usage": terminal.usage.model_dump(), "b_error": None}
    status = "cancelled" if terminal.code == "cancelled" else "failed"
    return {"b_status": status, "b_error": terminal.reason}
