"""/api/runs: one agent run's state, cancelling it, and answering its tool approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from netra.agents.approvals import Decision
from netra.chat.routes.deps import Backend, Reader, Writer

router = APIRouter(prefix="/api/runs", tags=["runs"])


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    thread_id: str
    user_message_id: str
    status: str
    provider: str
    model: str | None
    error: str | None
    usage: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.get("/{run_id}", response_model=RunOut)
async def get_run(backend: Backend, user: Reader, run_id: str) -> RunOut:
    return RunOut.model_validate(await backend.own_run(user.subject, run_id))


@router.post("/{run_id}/cancel", response_model=RunOut, status_code=202)
async def cancel_run(backend: Backend, user: Writer, run_id: str) -> RunOut:
    """Ask the run to stop; it ends with an `agent_error` (code `cancelled`)."""
    return RunOut.model_validate(await backend.cancel_run(user.subject, run_id))


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approved: bool
    note: Annotated[str, Field(max_length=2000)] | None = None


class ApprovalOut(BaseModel):
    run_id: str
    thread_id: str
    call_id: str
    approved: bool
    note: str | None


@router.post("/{run_id}/approvals/{call_id}", response_model=ApprovalOut)
async def answer_approval(
    backend: Backend, user: Writer, run_id: str, call_id: str, body: ApprovalIn
) -> ApprovalOut:
    """Approve or decline a tool call the run waits on (`approval_required`); the run
    resumes with it (`approval_resolved`). A second answer: 409 `already_resolved`."""
    decision = Decision(body.approved, body.note)
    answered = await backend.answer_approval(user.subject, run_id, call_id, decision)
    return ApprovalOut(**vars(answered))
