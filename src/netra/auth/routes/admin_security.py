"""Admins and account security: mail an account a reset link, turn its second factor
off; see what the outbox holds (mail that is stuck or failed)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

from netra.auth.models import OutboxMail
from netra.auth.payloads import Accepted, MailOut, MailPage
from netra.auth.routes.deps import CurrentUser, State, admin_user


def mail_out(row: OutboxMail) -> MailOut:
    return MailOut(
        id=row.id,
        kind=row.kind,
        to=row.to_address,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/admin", tags=["admin"])

    @api.post(
        "/users/{user_id}/password-reset", status_code=202, summary="Mail an account a reset link"
    )
    async def send_reset(
        state: State,
        user_id: str,
        current: Annotated[CurrentUser, Depends(admin_user)],
        request: Request,
    ) -> Accepted:
        user = await state.resets.send_link(user_id, current.user.id, state.client(request))
        return Accepted(message=f"a reset link is on its way to {user.email}")

    @api.delete(
        "/users/{user_id}/mfa", status_code=204, summary="Turn an account's second factor off"
    )
    async def reset_mfa(
        state: State,
        user_id: str,
        current: Annotated[CurrentUser, Depends(admin_user)],
        request: Request,
    ) -> Response:
        await state.mfa.reset_by_admin(user_id, current.user.id, state.client(request))
        return Response(status_code=204)

    @api.get("/mail", summary="Mails of the outbox, newest first (pending, sent, failed)")
    async def list_mail(
        state: State,
        _: Annotated[CurrentUser, Depends(admin_user)],
        status: Literal["pending", "sent", "failed"] | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> MailPage:
        query = select(OutboxMail).order_by(OutboxMail.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(OutboxMail.status == status)
        async with state.db() as db:
            rows = list(await db.scalars(query))
        pending, failed = await state.outbox.backlog()
        return MailPage(mails=[mail_out(row) for row in rows], pending=pending, failed_today=failed)

    return api
