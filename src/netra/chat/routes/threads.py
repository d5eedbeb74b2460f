"""/api/threads: a user's threads and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from netra.agents.catalog import ModelNotAllowed
from netra.chat.backend import ChatBackend, RateLimited
from netra.chat.routes.deps import Backend, User, own_thread
from netra.chat.store import BadCursor
from netra.tokens import Principal

router = APIRouter(prefix="/api/threads", tags=["threads"])


ModelId = Annotated[str, Field(min_length=1, max_length=64)]


class ThreadIn(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=200)] = "New chat"
    model: ModelId | None = Field(None, description="A catalog model id (GET /api/models).")


class ThreadPatch(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    model: ModelId | None = Field(None, description="null: back to the default model.")


class ThreadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    last_seq: int
    model: str | None


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    thread_id: str
    role: str
    content: str
    client_msg_id: str | None
    run_id: str | None
    created_at: datetime


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class MessageIn(BaseModel):
    text: Annotated[str, Field(min_length=1)]
    client_msg_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    model: ModelId | None = Field(None, description="This message's model, else the thread's.")


class Posted(BaseModel):
    message: MessageOut
    run_id: str
    created: bool
    after_seq: int = Field(description="Subscribe after this seq to see the run's events.")


@router.get("", response_model=list[ThreadOut])
async def list_threads(
    backend: Backend,
    user: User,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ThreadOut]:
    threads = await backend.threads.list_for(user.subject, limit, offset)
    return [ThreadOut.model_validate(t) for t in threads]


def allowed_model(backend: ChatBackend, user: Principal, model: str | None) -> None:
    """403 `model_not_allowed` unless the caller may use `model` (None: the default)."""
    if model is None:
        return
    try:
        backend.model_set.catalog.choose(model, user.roles)
    except ModelNotAllowed as exc:
        raise HTTPException(403, {"reason": exc.reason, "message": str(exc)}) from None


@router.post("", response_model=ThreadOut, status_code=201)
async def create_thread(backend: Backend, user: User, body: ThreadIn) -> ThreadOut:
    allowed_model(backend, user, body.model)
    thread = await backend.threads.create(user.subject, body.title, body.model)
    return ThreadOut.model_validate(thread)


@router.get("/{thread_id}", response_model=ThreadOut)
async def get_thread(backend: Backend, user: User, thread_id: str) -> ThreadOut:
    return ThreadOut.model_validate(await own_thread(backend, user, thread_id))


@router.patch("/{thread_id}", response_model=ThreadOut)
async def update_thread(
    backend: Backend, user: User, thread_id: str, body: ThreadPatch
) -> ThreadOut:
    """Rename the thread and/or set its default model (fields sent are changed)."""
    allowed_model(backend, user, body.model)
    thread = await backend.threads.update(
        user.subject, thread_id, body.model_dump(include=body.model_fields_set)
    )
    if thread is None:
        raise HTTPException(404, f"thread {thread_id} not found")
    return ThreadOut.model_validate(thread)


@router.delete("/{thread_id}", status_code=204)
async def delete_thread(backend: Backend, user: User, thread_id: str) -> Response:
    if not await backend.threads.delete(user.subject, thread_id):
        raise HTTPException(404, f"thread {thread_id} not found")
    return Response(status_code=204)


@router.get("/{thread_id}/messages", response_model=MessagePage)
async def list_messages(
    backend: Backend,
    user: User,
    thread_id: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> MessagePage:
    await own_thread(backend, user, thread_id)
    try:
        items, next_cursor = await backend.threads.messages(thread_id, limit, cursor)
    except BadCursor as exc:
        raise HTTPException(400, str(exc)) from None
    return MessagePage(items=[MessageOut.model_validate(m) for m in items], next_cursor=next_cursor)


@router.post("/{thread_id}/messages", response_model=Posted, status_code=202)
async def post_message(
    backend: Backend, user: User, thread_id: str, body: MessageIn, response: Response
) -> Posted:
    """Store the message and start an agent run; repeating a client_msg_id returns the
    first message and run (200) instead of starting another."""
    if backend.draining:
        raise HTTPException(503, "server restarting; send again", headers={"Retry-After": "1"})
    await own_thread(backend, user, thread_id)
    limit = backend.settings.message_max_chars
    if len(body.text) > limit:
        raise HTTPException(413, f"message text is {len(body.text)} characters; limit {limit}")
    try:
        await backend.check_rate(user.subject)
    except RateLimited as exc:
        raise HTTPException(
            429, str(exc), headers={"Retry-After": str(max(1, round(exc.retry_after)))}
        ) from None
    try:
        posted = await backend.post_message(
            user.subject,
            thread_id,
            body.text,
            body.client_msg_id,
            model=body.model,
            roles=user.roles,
        )
    except ModelNotAllowed as exc:
        raise HTTPException(403, {"reason": exc.reason, "message": str(exc)}) from None
    if posted is None:  # deleted since own_thread looked
        raise HTTPException(404, f"thread {thread_id} not found")
    if not posted.created:
        response.status_code = 200
    return Posted(
        message=MessageOut.model_validate(posted.message),
        run_id=posted.run.id,
        created=posted.created,
        after_seq=posted.after_seq,
    )
