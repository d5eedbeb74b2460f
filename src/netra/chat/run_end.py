"""The end of a run in one transaction: its last events and terminal event, its status,
its usage and its answer. Whoever ends it (its task, a sweeper, a cancel of a waiting
run) goes through here, and only the first one counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from netra.agents.events import AgentCompleted, AgentError, AgentEvent
from netra.chat.envelope import Envelope
from netra.chat.eventlog import EventLog
from netra.chat.models import Message, Run, Thread
from netra.chat.write_group import End
from netra.db.base import new_id, utcnow
from netra.health.metrics import Metrics
from netra.usage.meter import RunMeter


async def record_end(
    events: EventLog,
    metrics: Metrics,
    *,
    run_id: str,
    thread_id: str,
    terminal: AgentCompleted | AgentError,
    last: Sequence[AgentEvent] = (),
    meter: RunMeter | None = None,
    question: str | None = None,
) -> list[Envelope]:
    """The envelopes to publish; none when the run had ended already (a sweeper's
    `agent_error` is then the last word). The answer is a child of `question` (the
    user's message), shown if the question still is. Written with other runs' writes
    (netra.chat.write_group) when the event log's writer runs."""
    answer = None
    if isinstance(terminal, AgentCompleted):
        answer = Message(
            id=new_id(),
            thread_id=thread_id,
            role="assistant",
            content=terminal.text,
            run_id=run_id,
            created_at=utcnow(),
            parent_id=question,
        )
    end = End(
        thread_id,
        run_id,
        [*last, terminal],
        _outcome(terminal),
        answer=answer,
        question=question,
        usage=None if meter is None else meter.settle(terminal),
    )
    envelopes: list[Envelope] = await events.submit(end)
    if not envelopes:
        return []
    outcome = str(end.outcome["b_status"])
    metrics.runs.labels(outcome).inc()
    if meter is not None:
        meter.count(terminal)
    if isinstance(terminal, AgentCompleted):
        metrics.run_duration.labels(outcome).observe(terminal.duration_ms / 1000)
    return envelopes


# A run and its owner (runs have no user column: their thread's).
RUN_AND_OWNER = select(Run, Thread.user_id).join(Thread, Thread.id == Run.thread_id)


def _outcome(terminal: AgentCompleted | AgentError) -> dict[str, Any]:
    """How the run's row ends (netra.chat.write_group)."""
    if isinstance(terminal, AgentCompleted):
        return {"b_status": "completed", "b_usage": terminal.usage.model_dump(), "b_error": None}
    status = "cancelled" if terminal.code == "cancelled" else "failed"
    return {"b_status": status, "b_error": terminal.reason}
