"""Export and import a thread, share a read-only snapshot of it, and rate answers."""

from __future__ import annotations

import re
from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, StringConstraints

from netra.chat.errors import AdminsOnly, NoSuchShare
from netra.chat.routes.deps import Backend, Reader, Writer
from netra.chat.routes.threads import ThreadOut
from netra.chat.transcript import ThreadDoc, export, import_thread, markdown
from netra.runtime import runtime_of
from netra.web import STATIC, secured

router = APIRouter(tags=["sharing"])
# A shared page is for the people given its link, not for search engines.
NOINDEX = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}


def _filename(title: str, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-.")[:60] or "thread"
    return f"{stem}.{suffix}"


@router.get("/api/threads/{thread_id}/export", summary="The thread as JSON or Markdown")
async def export_thread(
    backend: Backend,
    user: Reader,
    thread_id: str,
    format: Annotated[Literal["json", "markdown"], Query()] = "json",
) -> Response:
    thread = await backend.own_thread(user.subject, thread_id)
    doc = await export(backend.runtime.db, thread)
    if format == "markdown":
        name = _filename(thread.title, "md")
        return PlainTextResponse(
            markdown(doc),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(
        doc.model_dump(mode="json"),
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(thread.title, "json")}"'
        },
    )


@router.post("/api/threads/import", response_model=ThreadOut, status_code=201)
async def import_thread_route(backend: Backend, user: Writer, doc: ThreadDoc) -> ThreadOut:
    """A new thread from an exported JSON document (its ids are never reused)."""
    thread = await import_thread(backend.runtime.db, backend.events, user.subject, doc)
    return ThreadOut.model_validate(thread)


class ShareIn(BaseModel):
    author: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None,
        description="A name to show on the shared page; nobody's identity is shown without it.",
    )


class ShareOut(BaseModel):
    id: str
    url: str | None = Field(description="The secret address; only in the answer that made it.")
    created_at: datetime
    revoked_at: datetime | None = None


def _public_base(request: Request) -> str:
    configured = runtime_of(request).settings.public_url
    return str(configured).rstrip("/") if configured else str(request.base_url).rstrip("/")


@router.post("/api/threads/{thread_id}/shares", response_model=ShareOut, status_code=201)
async def share_thread(
    backend: Backend, user: Writer, thread_id: str, request: Request, body: ShareIn | None = None
) -> ShareOut:
    """A read-only snapshot of the thread as it is now, at an unguessable URL."""
    thread = await backend.own_thread(user.subject, thread_id)
    doc = await export(backend.runtime.db, thread)
    made = await backend.shares.create(user.subject, thread, doc, body.author if body else None)
    url = f"{_public_base(request)}/s/{made.token}"
    return ShareOut(id=made.share.id, url=url, created_at=made.share.created_at)


@router.get("/api/threads/{thread_id}/shares", response_model=list[ShareOut])
async def list_shares(backend: Backend, user: Reader, thread_id: str) -> list[ShareOut]:
    await backend.own_thread(user.subject, thread_id)
    shares = await backend.shares.list_for(user.subject, thread_id)
    return [
        ShareOut(id=s.id, url=None, created_at=s.created_at, revoked_at=s.revoked_at)
        for s in shares
    ]


@router.delete("/api/shares/{share_id}", status_code=204)
async def revoke_share(backend: Backend, user: Writer, share_id: str) -> Response:
    await backend.shares.revoke(user.subject, share_id)
    return Response(status_code=204)


@router.get("/api/shared/{token}", summary="A shared snapshot (no sign-in)")
async def shared_snapshot(backend: Backend, token: str) -> JSONResponse:
    share = await backend.shares.public(token)
    body: dict[str, Any] = {**share.snapshot, "shared_at": share.created_at.isoformat()}
    return JSONResponse(body, headers={**NOINDEX, "Cache-Control": "no-store"})


@router.get("/s/{token}", include_in_schema=False)
async def shared_page(backend: Backend, token: str) -> Response:
    """The page a share's URL opens; it reads /api/shared/{token}. Once revoked, the same
    page with 404: a person sees why in words, a crawler sees the status."""
    try:
        await backend.shares.public(token)
        status = 200
    except NoSuchShare:
        status = 404
    page = FileResponse(STATIC / "share.html", status_code=status, headers=NOINDEX)
    return secured(page, "no-store")


class Rating(IntEnum):
    up = 1
    down = -1


class FeedbackIn(BaseModel):
    rating: Rating
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None


class FeedbackOut(BaseModel):
    id: str
    message_id: str
    rating: int
    comment: str | None
    updated_at: datetime


@router.post("/api/messages/{message_id}/feedback", response_model=FeedbackOut)
async def rate_answer(
    backend: Backend, user: Writer, message_id: str, body: FeedbackIn
) -> FeedbackOut:
    """Thumbs up (1) or down (-1) on an answer in one's own thread; again replaces it."""
    f = await backend.feedback.rate(user.subject, message_id, int(body.rating), body.comment)
    return FeedbackOut(
        id=f.id,
        message_id=f.message_id,
        rating=f.rating,
        comment=f.comment,
        updated_at=f.updated_at,
    )


class FeedbackItem(FeedbackOut):
    user_id: str
    run_id: str | None
    provider: str | None
    model: str | None
    tools: list[str]


class FeedbackPage(BaseModel):
    items: list[FeedbackItem]
    next_cursor: str | None


@router.get("/api/admin/feedback", response_model=FeedbackPage)
async def list_feedback(
    backend: Backend,
    user: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    rating: Annotated[Rating | None, Query(description="1 or -1")] = None,
) -> FeedbackPage:
    """Everyone's feedback, newest first, with the model and tools of the rated run."""
    if not user.is_admin:
        raise AdminsOnly
    rows, next_cursor = await backend.feedback.recent(
        limit, cursor, None if rating is None else int(rating)
    )
    return FeedbackPage(
        items=[
            FeedbackItem(
                id=r.feedback.id,
                message_id=r.feedback.message_id,
                rating=r.feedback.rating,
                comment=r.feedback.comment,
                updated_at=r.feedback.updated_at,
                user_id=r.feedback.user_id,
                run_id=r.run.id if r.run else None,
                provider=r.run.provider if r.run else None,
                model=r.model,
                tools=r.tools,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
