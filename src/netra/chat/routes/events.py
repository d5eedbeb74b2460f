"""The persisted event log of a thread: a page at a time, or streamed as Server-Sent
Events for clients without WebSockets (`id:` is the seq; `Last-Event-ID` resumes)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from netra.chat.backend import ChatBackend
from netra.chat.errors import TooManyStreams
from netra.chat.outbox import Outbox
from netra.chat.routes.deps import Backend, Reader, bearer
from netra.chat.streams import UNAUTHORIZED
from netra.errors import BadRequest
from netra.tokens import Principal

SEQ = re.compile(r"[0-9]{1,18}")  # a seq fits a signed 64-bit column

router = APIRouter(prefix="/api/threads", tags=["events"])


class EventOut(BaseModel):
    type: str
    thread_id: str
    run_id: str
    seq: int
    ts: str
    payload: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    last_seq: int


@router.get("/{thread_id}/events", response_model=EventPage)
async def list_events(
    backend: Backend,
    user: Reader,
    thread_id: str,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> EventPage:
    thread = await backend.follow_from(user.subject, thread_id, after_seq)
    rows = await backend.events.read(thread_id, after_seq, limit)
    return EventPage(
        items=[EventOut.model_validate(e.as_dict()) for e in rows], last_seq=thread.last_seq
    )


@router.get(
    "/{thread_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    backend: Backend,
    user: Reader,
    thread_id: str,
    *,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    after_seq: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Replay after `after_seq` (or the `Last-Event-ID` header), then follow live."""
    if last_event_id is not None:
        # ASCII digits only: str.isdigit() also accepts '²', which int() then refuses.
        if not SEQ.fullmatch(last_event_id):
            message = f"Last-Event-ID {last_event_id[:40]!r} is not a seq"
            raise BadRequest(message, reason="bad_seq")
        after_seq = int(last_event_id)
    await backend.follow_from(user.subject, thread_id, after_seq)
    backend.streams.check_room(user)  # WS_MAX_PER_USER counts SSE streams too: 429
    token = credentials.credentials if credentials is not None else ""
    return StreamingResponse(
        _sse(backend, thread_id, after_seq, user, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _sse(
    backend: ChatBackend, thread_id: str, after_seq: int, user: Principal, token: str
) -> AsyncIterator[str]:
    outbox = Outbox(backend.settings.ws_queue_size)
    try:
        stream = backend.streams.open(user, token, outbox.fail)
    except TooManyStreams as exc:  # another stream of this user got in first
        yield _ended(exc.reason, exc.message)
        return
    subscription = backend.hub.subscribe(thread_id, after_seq, outbox)
    backend.sockets.add(outbox)
    heartbeat = backend.settings.ws_heartbeat_interval
    try:
        yield "retry: 1000\n\n"
        while outbox.close_code is None:
            if not outbox.frames:
                try:
                    await asyncio.wait_for(outbox.wait(), heartbeat)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
            for frame in outbox.take():
                event = json.loads(frame)
                yield f"id: {event['seq']}\nevent: {event['type']}\ndata: {frame}\n\n"
        if outbox.close_code == UNAUTHORIZED:  # revoked: say why, and do not come back
            yield _ended("unauthorized", outbox.close_reason)
        # Otherwise overloaded or shutting down: the client reconnects with Last-Event-ID.
    finally:
        backend.streams.close(stream)
        backend.sockets.discard(outbox)
        backend.hub.unsubscribe(subscription)


def _ended(code: str, message: str) -> str:
    """The last event of a stream the server ends for good (docs/protocol.md)."""
    return f"event: error\ndata: {json.dumps({'code': code, 'reason': message})}\n\n"
