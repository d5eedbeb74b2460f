"""Branches of a thread: regenerating an answer and choosing the branch shown (editing a
message is posting its sibling: POST /api/threads/{id}/messages with `parent_id`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from netra.chat.routes.deps import Backend, Writer
from netra.chat.routes.runs import RunOut
from netra.chat.routes.threads import ModelId, ThreadOut

router = APIRouter(tags=["branches"])


class RegenerateIn(BaseModel):
    model: ModelId | None = Field(None, description="A catalog model; else the thread's.")


class Regenerated(RunOut):
    """The new run (as GET /api/runs/{id} shows it); its answer will be a sibling."""

    run_id: str
    after_seq: int = Field(description="Subscribe after this seq to see the run's events.")


class ActiveLeafIn(BaseModel):
    message_id: Annotated[str, Field(min_length=1, max_length=100)]


@router.post("/api/messages/{message_id}/regenerate", response_model=Regenerated, status_code=202)
async def regenerate(
    backend: Backend, user: Writer, message_id: str, body: RegenerateIn | None = None
) -> Regenerated:
    """Answer the same question again (optionally with another model) in a new run."""
    model = body.model if body is not None else None
    posted = await backend.regenerate(user, message_id, model=model)
    run = RunOut.model_validate(posted.run).model_copy(update={"status": posted.status})
    return Regenerated(**run.model_dump(), run_id=posted.run.id, after_seq=posted.after_seq)


@router.put("/api/threads/{thread_id}/active-leaf", response_model=ThreadOut)
async def show_branch(
    backend: Backend, user: Writer, thread_id: str, body: ActiveLeafIn
) -> ThreadOut:
    """Show the branch through `message_id`, down to its newest message (a sibling's
    switcher names the sibling; the thread remembers where that branch was left)."""
    thread = await backend.threads.show_branch(user.subject, thread_id, body.message_id)
    return ThreadOut.model_validate(thread)
