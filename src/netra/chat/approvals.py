"""Runs paused for a person's approval of a tool call (docs/architecture.md decision 9).

A paused run holds no task: its provider's checkpoint is a `run_approvals` row and the
run is `waiting`. Whichever instance receives the answer (or finds the approval past
APPROVAL_TIMEOUT, even after a restart) claims the row with one conditional UPDATE, so
exactly one resumes the run, in a task of its own, with the events still gap-free.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from netra.agents.approvals import Decision, Paused
from netra.agents.catalog.catalog import BUILTIN_ASSISTANT
from netra.agents.events import AgentError, ApprovalResolved
from netra.agents.run import Resumption
from netra.agents.runtime import Agent
from netra.chat.envelope import Envelope
from netra.chat.errors import AlreadyResolved, NoSuchApproval, RunFinished
from netra.chat.legs import Leg
from netra.chat.models import ACTIVE, LEASED, Run, RunApproval, run_approvals_table, runs_table
from netra.db.base import utcnow

if TYPE_CHECKING:
    from netra.chat.runs import RunManager

log = logging.getLogger("netra.chat.approvals")
PENDING = "pending"
# Most expired approvals one sweep resolves; the next sweep takes the rest.
SWEEP_BATCH = 100


@dataclass(frozen=True)
class Answered:
    """An approval after its answer: what the REST route and the socket's ack say."""

    run_id: str
    thread_id: str
    call_id: str
    approved: bool
    note: str | None


class Approvals:
    """Pauses runs for approvals and resumes them when answered or timed out."""

    def __init__(self, runs: RunManager) -> None:
        self.runs = runs

    @property
    def timeout(self) -> float:
        return self.runs.settings.approval_timeout

    async def pause_in(self, session: AsyncSession, leg: Leg, paused: Paused) -> bool:
        """Record the run as waiting on `paused.asked` (in the caller's transaction);
        False when the run is no longer running (a sweeper ended it)."""
        asked = paused.asked
        changed = await session.execute(_PAUSE, {"b_run": leg.run_id})
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            return False
        state = {
            "agent": paused.checkpoint,
            "user_id": leg.user_id,
            "roles": sorted(leg.roles),
            "assistant": leg.assistant,
            "instructions": leg.instructions,
            "tools": None if leg.tools is None else sorted(leg.tools),
        }
        now = utcnow()
        row = {
            "run_id": leg.run_id,
            "call_id": asked.call_id,
            "thread_id": leg.thread_id,
            "tool": asked.tool,
            "arguments": asked.arguments,
            "checkpoint": state,
            "status": PENDING,
            "created_at": now,
            "expires_at": now + timedelta(seconds=self.timeout),
        }
        # Some servers number calls per step (`call_0` again): the earlier, resolved
        # approval under this id gives way to the new one.
        await session.execute(_FORGET, {"b_run": leg.run_id, "b_call": asked.call_id})
        await session.execute(insert(run_approvals_table), row)
        return True

    async def answer(self, run: Run, call_id: str, decision: Decision) -> Answered:
        """A person's answer to one of `run`'s approvals (the caller checked the run is
        theirs); the run resumes in this process."""
        async with self.runs.db() as session:
            row = await session.get(RunApproval, (run.id, call_id))
        if row is None:
            if run.status not in ACTIVE:
                raise RunFinished(run.status, run.thread_id)
            raise NoSuchApproval(call_id)
        if row.status == PENDING and row.expires_at <= utcnow():
            await self._resolve(row, self.timed_out(), "expired")
            raise AlreadyResolved(call_id, "expired")
        if row.status != PENDING:
            raise AlreadyResolved(call_id, row.status)
        status = "approved" if decision.approved else "denied"
        if not await self._resolve(row, decision, status):
            raise AlreadyResolved(call_id, "answered")  # another answer got in first
        return Answered(run.id, row.thread_id, call_id, decision.approved, decision.note)

    def agent_for(self, model: str | None) -> Agent:
        """The agent of the catalog model `model` (the run manager's own one without a
        catalog, or for a model the catalog no longer declares)."""
        runs = self.runs
        if runs.agents is None or runs.catalog is None or model is None:
            return runs.agent
        return runs.agents(model) if runs.catalog.model(model) is not None else runs.agent

    def timed_out(self) -> Decision:
        return Decision(False, f"no answer within {self.timeout:g} s (APPROVAL_TIMEOUT)")

    async def expire_due(self) -> int:
        """Decline every approval past APPROVAL_TIMEOUT, whichever process paused it
        (they may all have restarted since); returns how many this call resolved."""
        async with self.runs.db() as session:
            rows = await session.scalars(
                select(RunApproval)
                .where(RunApproval.status == PENDING, RunApproval.expires_at <= utcnow())
                .limit(SWEEP_BATCH)
            )
            due = list(rows)
        resolved = 0
        for row in due:
            resolved += await self._resolve(row, self.timed_out(), "expired")
        await self.count()
        return resolved

    async def end_waiting(self, run_id: str, reason: str) -> bool:
        """Cancel a waiting run (it has no task to cancel): its approval is withdrawn and
        the run ends with `agent_error` (code cancelled). False if it was not waiting."""
        async with self.runs.db.begin() as session:
            withdrawn = await session.execute(
                _CLAIM_ALL, {"b_run": run_id, "b_status": "cancelled", "b_now": utcnow()}
            )
            thread_id = await session.scalar(select(Run.thread_id).where(Run.id == run_id))
        if withdrawn.rowcount == 0 or thread_id is None:  # type: ignore[attr-defined]
            return False
        await self.runs.finish(run_id, thread_id, AgentError(reason=reason, code="cancelled"))
        await self.count()
        return True

    async def count(self) -> None:
        """The waiting-approvals gauge, from the database (every instance's)."""
        async with self.runs.db() as session:
            waiting = await session.scalar(
                select(func.count()).where(run_approvals_table.c.status == PENDING)
            )
        self.runs.metrics.approvals_waiting.set(waiting or 0)

    async def _resolve(self, row: RunApproval, decision: Decision, status: str) -> bool:
        """Claim `row` with `status`, record `approval_resolved` and resume the run here;
        False when someone else claimed it first."""
        runs = self.runs
        state: dict[str, Any] = row.checkpoint or {}
        async with runs.db.begin() as session:
            claimed = await session.execute(
                _CLAIM,
                {
                    "b_run": row.run_id,
                    "b_call": row.call_id,
                    "b_status": status,
                    "b_note": decision.note,
                    "b_now": utcnow(),
                },
            )
            if claimed.rowcount == 0:  # type: ignore[attr-defined]
                return False
            resumed = await session.execute(
                _RESUME,
                {
                    "b_run": row.run_id,
                    "b_lease": runs.lease_until(),
                    "b_instance": runs.instance_id,
                },
            )
            if resumed.rowcount == 0:  # type: ignore[attr-defined]
                return True  # the run ended meanwhile: nothing to resume
            run = await session.get(Run, row.run_id)
            if run is None:
                return True
            resolved = ApprovalResolved(
                call_id=row.call_id, approved=decision.approved, note=decision.note
            )
            envelopes = await runs.events.append_in(session, row.thread_id, run.id, [resolved])
        await self.count()
        leg = _resumed(run, state, envelopes, Resumption(state.get("agent", {}), decision))
        runs.launch(leg, self.agent_for(run.model), run.provider)
        return True


def _resumed(
    run: Run, state: dict[str, Any], published: list[Envelope], resuming: Resumption
) -> Leg:
    """The leg that goes on from a pause, with what the paused one had (pause_in)."""
    tools = state.get("tools")
    return Leg(
        run.id,
        run.thread_id,
        str(state.get("user_id", "")),
        frozenset(state.get("roles", ("user",))),
        tuple(published),
        assistant=str(state.get("assistant") or BUILTIN_ASSISTANT),
        instructions=str(state.get("instructions") or ""),
        tools=None if tools is None else frozenset(tools),
        question=run.user_message_id,
        resuming=resuming,
    )


_approvals = run_approvals_table
_CLAIM_ALL = (
    update(_approvals)
    .where(_approvals.c.run_id == bindparam("b_run"), _approvals.c.status == PENDING)
    .values(status=bindparam("b_status"), resolved_at=bindparam("b_now"), checkpoint=None)
)
_CLAIM = _CLAIM_ALL.where(_approvals.c.call_id == bindparam("b_call")).values(
    note=bindparam("b_note")
)
_FORGET = delete(_approvals).where(
    _approvals.c.run_id == bindparam("b_run"), _approvals.c.call_id == bindparam("b_call")
)
# A running run starts waiting (no lease: no task), a waiting one runs again (leased).
_runs = runs_table
_PAUSE = (
    update(_runs)
    .where(_runs.c.id == bindparam("b_run"), _runs.c.status.in_(LEASED))
    .values(status="waiting", lease_expires_at=None)
)
_RESUME = (
    update(_runs)
    .where(_runs.c.id == bindparam("b_run"), _runs.c.status == "waiting")
    .values(
        status="running",
        lease_expires_at=bindparam("b_lease"),
        instance_id=bindparam("b_instance"),
    )
)
