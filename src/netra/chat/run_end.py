"""The end of a run in one transaction: its last events and terminal event, its status,
its usage and its answer. Whoever ends it (its task, a sweeper, a cancel of a waiting
run) goes through here, and only the first one counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.events import AgentCompleted, AgentError, AgentEvent
from netra.chat.eventlog import Envelope, EventLog
from netra.chat.models import (
    ACTIVE,
    Message,
    Run,
    Thread,
    insert_values,
    messages_table,
    runs_table,
)
from netra.db.base import new_id, utcnow
from netra.health.metrics import Metrics
from netra.usage.meter import RunMeter


async def record_end(
    db: async_sessionmaker[AsyncSession],
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
    user's message), shown if the question still is."""
    answered: tuple[str, str] | None = None
    async with db.begin() as session:
        params = {"b_run": run_id, "b_now": utcnow(), **_outcome(terminal)}
        ended = _COMPLETE_RUN if isinstance(terminal, AgentCompleted) else _FAIL_RUN
        changed = await session.execute(ended, params)
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            return []
        outcome = str(params["b_status"])
        metrics.runs.labels(outcome).inc()
        if meter is not None:
            await meter.record(session, terminal)
        if isinstance(terminal, AgentCompleted):
            metrics.run_duration.labels(outcome).observe(terminal.duration_ms / 1000)
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
        written = [*last, terminal]
        return await events.append_in(session, thread_id, run_id, written, answered=answered)


# A run and its owner (runs have no user column: their thread's).
RUN_AND_OWNER = select(Run, Thread.user_id).join(Thread, Thread.id == Run.thread_id)
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
