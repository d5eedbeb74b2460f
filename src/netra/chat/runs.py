"""Agent runs as tasks owned by the backend process, not by any connection: closing a
socket does not stop a run, cancel does. Each instance renews the lease of its runs;
any instance fails a run whose lease expired (its instance crashed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.approvals import Paused
from netra.agents.catalog import Catalog
from netra.agents.events import AgentCompleted, AgentError, AgentEvent
from netra.agents.run import run_agent
from netra.agents.runtime import Agent, Attachment, RunContext
from netra.chat.agent_stream import Item, pump, read_batches
from netra.chat.approvals import Approvals
from netra.chat.assistants import BUILTIN, Preset
from netra.chat.bus import EventBus, Notice
from netra.chat.eventlog import EventLog
from netra.chat.files import FileLibrary
from netra.chat.legs import Ending, Leg
from netra.chat.lookups import ReadAhead, TurnsLoader, forget
from netra.chat.models import ACTIVE, Run
from netra.chat.publisher import Publisher
from netra.chat.run_end import RUN_AND_OWNER, record_end
from netra.chat.run_leases import Leases
from netra.chat.run_meters import RunMeters
from netra.chat.run_queue import RunQueue, Waiting
from netra.chat.store import Posted
from netra.chat.userdata import ChatUserData
from netra.chat.write_group import RunEnded
from netra.db.base import utcnow
from netra.health.metrics import Metrics
from netra.health.tracing import span_if_tracing
from netra.settings import Settings
from netra.usage.meter import RunMeter
from netra.usage.store import Admission, UsageStore
from netra.usage.tally import CatalogPricing

log = logging.getLogger("netra.chat.runs")
tracer = trace.get_tracer("netra.chat.runs")
FINISHED = ("completed", "failed", "cancelled")


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
        agents: Callable[[str | None], Agent] | None = None,
        reads: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.metrics = metrics if metrics is not None else Metrics()
        self.settings = settings
        self.db = db
        self.events = events
        self.bus = bus
        self.agent = agent
        # The models' prices (MODELS_FILE); None: the agent's provider settings price it.
        self.catalog = catalog
        self.files = files  # what a message attaches, given to its run
        # Usage accounting (netra.usage); None keeps no usage (tests, the bench baseline).
        self.meters = RunMeters(self.metrics, CatalogPricing(settings, catalog), usage)
        # The agent of a catalog model id, for a run resumed after an approval.
        self.agents = agents
        self.approvals = Approvals(self)
        # Runs starting together read their histories at once (`reads`: read-only
        # connections where the database has them apart, netra.db.create_read_engine).
        self.turns = TurnsLoader(reads or db)
        self.leases = Leases(self)
        self.instance_id = instance_id
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.cancel_reasons: dict[str, str] = {}
        self.publisher = Publisher(bus, instance_id)
        self.ending: dict[str, asyncio.Task[None]] = {}  # legs ended before they started
        # Legs beyond RUN_WORKERS wait here, in turns by user (netra.chat.run_queue).
        self.queue = RunQueue(settings.run_workers, self._begin)
        self.metrics.runs_queued.set_function(lambda: len(self.queue))

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
    ) -> bool:
        """Run `agent` (default: this manager's) for a posted message; its
        `agent_started` (committed with the message) is published first, once the caller
        has answered. `admission`: the budget that let it in, which stops it when crossed.
        `preset`: the thread's assistant, whose instructions and tools the run has.
        True when the run waits for a worker (RUN_WORKERS are busy)."""
        leg = Leg.of_message(posted, user_id, frozenset(roles), preset, admission)
        chosen = agent if agent is not None else self.agent
        return self.launch(leg, chosen, posted.run.provider)

    def launch(self, leg: Leg, agent: Agent, provider: str) -> bool:
        """Drive `leg` in a task of this process (a new run, or one resumed here) when a
        worker is free; True when it waits for one. A waiting leg's first events (its
        `agent_started`, committed already) are published now, not when it starts."""
        turns = None
        announced = self.queue.busy
        if announced:
            self.publisher.announce(leg.published)
            if leg.message is not None and leg.question is not None:  # its history, now
                turns = self.turns.ahead(leg.user_id, leg.thread_id)
        return self.queue.submit(Waiting(leg, agent, provider, turns, announced))

    def _begin(self, item: Waiting) -> asyncio.Task[None]:
        leg = item.leg
        work = self._execute(item)
        task = asyncio.create_task(work, name=f"run-{leg.run_id}")
        self.tasks[leg.run_id] = task
        task.add_done_callback(lambda _: self.tasks.pop(leg.run_id, None))
        return task

    async def cancel(self, run_id: str, reason: str = "cancelled by the user") -> None:
        """Stop a run wherever it executes (a waiting one, from here)."""
        if self._cancel_local(run_id, reason):
            return
        if await self.approvals.end_waiting(run_id, reason):
            return
        await self.bus.publish(Notice("cancel", self.instance_id, run_id=run_id))

    def on_notice(self, notice: Notice) -> None:
        if notice.kind == "cancel":
            self._cancel_local(notice.run_id, "cancelled by the user")

    def _cancel_local(self, run_id: str, reason: str) -> bool:
        waiting = self.queue.withdraw(run_id)
        if waiting is not None:  # never started: ended with its agent_error, here
            self._end_unstarted(waiting, reason)
            return True
        if run_id in self.ending:
            return True
        task = self.tasks.get(run_id)
        if task is None:
            return False
        self.cancel_reasons.setdefault(run_id, reason)
        task.cancel()
        return True

    def _end_unstarted(self, waiting: Waiting, reason: str) -> None:
        """End a leg that waited for a worker and never ran: its `agent_error`, and its
        usage (nothing spent) given back, in a task `stop` and `shutdown` wait for."""
        leg = waiting.leg
        forget(waiting.turns)
        meter = self.meters.for_leg(leg, waiting.agent)
        ending = AgentError(reason=reason, code="cancelled")
        work = self.finish(leg.run_id, leg.thread_id, ending, meter=meter, question=leg.question)
        task = asyncio.create_task(_logged(work, leg.run_id))
        self.ending[leg.run_id] = task
        task.add_done_callback(lambda _: self.ending.pop(leg.run_id, None))

    async def _execute(self, item: Waiting) -> None:
        leg, agent, provider = item.leg, item.agent, item.provider
        # A child of the request that posted the message or answered the approval (the
        # task copied its context): its trace holds the run, model calls and tool calls.
        attributes = {
            "netra.run.id": leg.run_id,
            "netra.thread.id": leg.thread_id,
            "gen_ai.agent.name": provider,
        }
        with span_if_tracing(tracer, f"invoke_agent {provider}", attributes=attributes) as span:
            self.metrics.runs_active.inc()
            try:
                meter = self.meters.for_leg(leg, agent)
                outcome = await self._execute_traced(item, meter)
            finally:
                self.metrics.runs_active.dec()
            span.set_attribute("netra.run.outcome", outcome)
            if outcome not in ("completed", "waiting"):
                span.set_status(StatusCode.ERROR, outcome)

    async def _execute_traced(self, item: Waiting, meter: RunMeter) -> str:
        leg = item.leg
        run_id, thread_id = leg.run_id, leg.thread_id
        ending: Ending
        last: list[AgentEvent] = []
        try:
            if not item.announced:
                await self.publisher.publish(leg.published)
            ending, last = await self._drive(leg, meter, item.agent, item.turns)
        except RunEnded:
            # Another instance's sweeper recorded this run's end (its lease lapsed while
            # this process was starved): that end is the last word; nothing more is written.
            log.warning("run %s was ended elsewhere while it ran here; stopped", run_id)
            ending = AgentError(reason="the run was ended elsewhere", code="internal")
        except TimeoutError:
            ending = AgentError(
                reason=f"the agent did not finish within {self.settings.run_timeout:g}s",
                code="timeout",
            )
        except asyncio.CancelledError:
            reason = self.cancel_reasons.pop(run_id, "the run was cancelled")
            ending = AgentError(reason=reason, code="cancelled")
        except Exception as exc:
            log.exception("run %s failed", run_id)
            # The exception's text may name hosts or paths: it goes to the log only.
            ending = AgentError(
                reason=f"the agent failed ({type(exc).__name__})", code="provider_error"
            )
        try:
            if isinstance(ending, Paused):
                await self._pause(leg, ending, last)
            else:
                await self.finish(run_id, thread_id, ending, last, meter, question=leg.question)
        except Exception:
            log.exception("could not record the end of run %s", run_id)
        if isinstance(ending, Paused):
            return "waiting"
        return "completed" if isinstance(ending, AgentCompleted) else ending.code

    async def _drive(
        self, leg: Leg, meter: RunMeter, agent: Agent, ahead: ReadAhead | None
    ) -> tuple[Ending, list[AgentEvent]]:
        data = ChatUserData(
            self.db, leg.user_id, leg.thread_id, leg.question, self.turns, ahead=ahead
        )
        attached: tuple[Attachment, ...] = ()
        if self.files is not None and leg.message is not None and leg.attached:  # not a resume
            attached = await self.files.for_run(leg.message.id)
        context = RunContext(
            leg.user_id,
            leg.thread_id,
            leg.run_id,
            data,
            roles=leg.roles,
            meter=meter.check,
            instructions=leg.instructions,
            tools=leg.tools,
            can_pause=True,
            attachments=attached,
        )
        # run_agent (netra.agents) enforces the time limit (per leg) and ends every leg
        # with exactly one terminal event or a pause; the outer timeout is only a
        # backstop for a stuck close.
        limit = self.settings.run_timeout
        if leg.message is not None:
            history = await data.thread_history(before=True)
            meter.tally.prompt_chars += sum(len(turn.content) for turn in history)
            run = run_agent(
                agent, history, leg.message.content, context, timeout=limit, announced=True
            )
        else:
            run = run_agent(agent, [], "", context, timeout=limit, resuming=leg.resuming)
        queue: asyncio.Queue[Item] = asyncio.Queue()
        async with asyncio.timeout(limit + 10):
            pumping = asyncio.create_task(pump(aiter(run), queue))
            try:
                return await self._persist(leg.thread_id, leg.run_id, queue, meter)
            finally:
                pumping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pumping

    async def _persist(
        self, thread_id: str, run_id: str, queue: asyncio.Queue[Item], meter: RunMeter
    ) -> tuple[Ending, list[AgentEvent]]:
        """Store and publish events as they come (netra.chat.agent_stream.read_batches);
        the terminal event (or pause) and the events that came with it, for `finish`
        (or `_pause`) to write at once."""
        return await read_batches(queue, meter.observe, partial(self._emit, thread_id, run_id))

    async def _emit(self, thread_id: str, run_id: str, events: list[AgentEvent]) -> None:
        if events:
            await self.publisher.publish(await self.events.append(thread_id, run_id, events))

    async def _pause(self, leg: Leg, paused: Paused, last: list[AgentEvent]) -> None:
        """The leg's last events, `approval_required` and the run's state, in one
        transaction: the run is `waiting` and no task waits for it."""
        async with self.db.begin() as session:
            if not await self.approvals.pause_in(session, leg, paused):
                return  # already failed by a sweeper: its agent_error is the last word
            events = [*last, paused.asked]
            envelopes = await self.events.append_in(session, leg.thread_id, leg.run_id, events)
        await self.publisher.publish(envelopes)
        await self.approvals.count()

    async def finish(
        self,
        run_id: str,
        thread_id: str,
        terminal: AgentCompleted | AgentError,
        last: Sequence[AgentEvent] = (),
        meter: RunMeter | None = None,
        *,
        question: str | None = None,
    ) -> None:
        """End the run with `last` and `terminal` (netra.chat.run_end), then tell the bus;
        its answer is a child of `question`, shown if the question still is."""
        envelopes = await record_end(
            self.events,
            self.metrics,
            run_id=run_id,
            thread_id=thread_id,
            terminal=terminal,
            last=last,
            meter=meter,
            question=question,
        )
        await self.publisher.publish(envelopes)

    async def stop(self, run_id: str, thread_id: str, reason: str, wait: float) -> None:
        """Cancel the run and wait until it has ended (its `agent_error` recorded). A run
        whose instance does not answer within `wait` seconds is ended from here."""
        await self.cancel(run_id, reason)
        task = self.tasks.get(run_id) or self.ending.get(run_id)
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
            found = (await session.execute(RUN_AND_OWNER.where(Run.id == run_id))).first()
        meter = None if found is None else self.meters.for_orphan(*found)
        await self.finish(
            run_id, thread_id, AgentError(reason=reason, code="cancelled"), meter=meter
        )

    async def shutdown(self, grace: float = 5.0) -> None:
        """Interrupt every local run, recording why, so none stays 'running'. Runs
        waiting for a worker first, so none starts as the running ones end."""
        reason = "the server restarted during this answer; send it again"
        for waiting in self.queue.withdraw_all():
            self._end_unstarted(waiting, reason)
        for run_id in list(self.tasks):
            self._cancel_local(run_id, reason)
        tasks = [*self.tasks.values(), *self.ending.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        self.queue.collector.resume()  # not left waiting for a timer of this loop


async def _logged(work: Coroutine[Any, Any, None], run_id: str) -> None:
    try:
        await work
    except Exception:
        log.exception("could not record the end of run %s", run_id)
