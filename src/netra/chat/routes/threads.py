"""/api/threads: a user's threads and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from netra.agents.catalog.catalog import BUILTIN_ASSISTANT
from netra.chat.choice import stored_assistant
from netra.chat.errors import NoSuchThread
from netra.chat.models import File, Message
from netra.chat.routes.deps import Backend, Reader, Writer
from netra.chat.tree import SHOWN_LEAF

router = APIRouter(prefix="/api/threads", tags=["threads"])


ModelId = Annotated[str, Field(min_length=1, max_length=64)]
AssistantId = Annotated[str, Field(min_length=1, max_length=64)]
MessageId = Annotated[str, Field(min_length=1, max_length=100)]


class ThreadIn(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=200)] = "New chat"
    model: ModelId | None = Field(None, description="A catalog model id (GET /api/models).")
    assistant_id: AssistantId | None = Field(
        None, description="An assistant (GET /api/assistants); null: the builtin one."
    )


class ThreadPatch(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    model: ModelId | None = Field(None, description="null: back to the default model.")
    assistant_id: AssistantId | None = Field(None, description="null: the builtin assistant.")


class ThreadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    last_seq: int
    model: str | None
    # Stored as null for the builtin assistant (and threads from before assistants).
    assistant_id: Annotated[str, BeforeValidator(lambda value: value or BUILTIN_ASSISTANT)]
    active_leaf_id: str | None = Field(description="The last message of the branch shown.")


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    size: int
    content_type: str


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    thread_id: str
    role: str
    content: str
    client_msg_id: str | None
    run_id: str | None
    created_at: datetime
    attachments: list[AttachmentOut] = Field(
        default_factory=list, description="Files attached to it (GET /api/files/{id})."
    )
    parent_id: str | None
    sibling_ids: list[str] = Field(
        default_factory=list,
        description="Messages with the same parent, this one included, oldest first.",
    )


def message_out(
    message: Message, siblings: dict[str, list[str]], files: Sequence[File] = ()
) -> MessageOut:
    out = MessageOut.model_validate(message)
    out.sibling_ids = siblings.get(message.id, [message.id])
    out.attachments = [AttachmentOut.model_validate(f) for f in files]
    return out


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class MessageIn(BaseModel):
    text: Annotated[str, Field(min_length=1)]
    client_msg_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    model: ModelId | None = Field(None, description="This message's model, else the thread's.")
    interrupt: bool = Field(False, description="Stop the thread's run under way first.")
    file_ids: list[Annotated[str, Field(max_length=36)]] = Field(
        default_factory=list,
        max_length=10,
        description="Files of this thread (POST /api/threads/{id}/files) to attach.",
    )
    parent_id: MessageId | None = Field(
        None,
        description="The message this one follows (an edit: the edited message's parent; "
        "null: a new first message). Left out: the last message of the branch shown.",
    )


class Posted(BaseModel):
    message: MessageOut
    run_id: str
    created: bool
    after_seq: int = Field(description="Subscribe after this seq to see the run's events.")
    status: str = Field(
        description="The run's status: `queued` while it waits for a worker (the server "
        "is busy, or storing other messages first; its events follow when one takes it), "
        "else as stored (`running`...)."
    )


@router.get("", response_model=list[ThreadOut])
async def list_threads(
    backend: Backend,
    user: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ThreadOut]:
    threads = await backend.threads.list_for(user.subject, limit, offset)
    return [ThreadOut.model_validate(t) for t in threads]


@router.post("", response_model=ThreadOut, status_code=201)
async def create_thread(backend: Backend, user: Writer, body: ThreadIn) -> ThreadOut:
    thread = await backend.create_thread(user, body.title, body.model, body.assistant_id)
    return ThreadOut.model_validate(thread)


@router.get("/{thread_id}", response_model=ThreadOut)
async def get_thread(backend: Backend, user: Reader, thread_id: str) -> ThreadOut:
    return ThreadOut.model_validate(await backend.own_thread(user.subject, thread_id))


@router.patch("/{thread_id}", response_model=ThreadOut)
async def update_thread(
    backend: Backend, user: Writer, thread_id: str, body: ThreadPatch
) -> ThreadOut:
    """Rename the thread, set its default model and/or its assistant (the fields sent
    are changed)."""
    backend.choice.check_model(body.model, user.roles)
    if "assistant_id" in body.model_fields_set:
        await backend.choice.check_assistant(user, body.assistant_id)
    changes = body.model_dump(include=body.model_fields_set)
    if "assistant_id" in changes:
        changes["assistant_id"] = stored_assistant(body.assistant_id)
    thread = await backend.threads.update(user.subject, thread_id, changes)
    if thread is None:
        raise NoSuchThread(thread_id)
    return ThreadOut.model_validate(thread)


@router.delete("/{thread_id}", status_code=204)
async def delete_thread(backend: Backend, user: Writer, thread_id: str) -> Response:
    await backend.delete_thread(user.subject, thread_id)
    return Response(status_code=204)


@router.get("/{thread_id}/messages", response_model=MessagePage)
async def list_messages(
    backend: Backend,
    user: Reader,
    thread_id: str,
    *,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    view: Annotated[
        Literal["path", "tree"],
        Query(description="path: the branch shown, root first; tree: every message"),
    ] = "path",
) -> MessagePage:
    await backend.own_thread(user.subject, thread_id)
    page = await backend.threads.messages(thread_id, limit, cursor, every=view == "tree")
    attached = await backend.files.of_messages([m.id for m in page.items])
    return MessagePage(
        items=[message_out(m, page.siblings, attached.get(m.id, [])) for m in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("/{thread_id}/messages", response_model=Posted, status_code=202)
async def post_message(
    backend: Backend, user: Writer, thread_id: str, body: MessageIn, response: Response
) -> Posted:
    """Store the message and start an agent run; repeating a client_msg_id returns the
    first message and run (200) instead of starting another."""
    edit = "parent_id" in body.model_fields_set
    posted = await backend.send_message(
        user,
        thread_id,
        body.text,
        body.client_msg_id,
        model=body.model,
        interrupt=body.interrupt,
        parent_id=body.parent_id if edit else SHOWN_LEAF,
        file_ids=body.file_ids,
    )
    if not posted.created:
        response.status_code = 200
    # An edit has siblings; a message following the branch shown almost never (GET tells).
    siblings = {posted.message.id: await backend.threads.siblings(posted.message)} if edit else {}
    # A new message has just the files it names (a repeat: those of the first).
    named = body.file_ids or not posted.created
    attached = await backend.files.of_messages([posted.message.id]) if named else {}
    return Posted(
        message=message_out(posted.message, siblings, attached.get(posted.message.id, [])),
        run_id=posted.run.id,
        created=posted.created,
        after_seq=posted.after_seq,
        status=posted.status,
    )
