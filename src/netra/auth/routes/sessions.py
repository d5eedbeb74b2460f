"""`/auth/sessions`: this user's sessions, and signing one out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from netra.auth import audit
from netra.auth.models import UserSession
from netra.auth.payloads import Revoked, SessionOut
from netra.auth.routes.deps import CurrentUser, State, session_user
from netra.errors import NotFound


def session_out(row: UserSession, current: str | None = None) -> SessionOut:
    return SessionOut(
        id=row.id,
        auth_method=row.auth_method,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        user_agent=row.user_agent,
        ip_address=row.ip_address,
        revoked_at=row.revoked_at,
        current=row.id == current,
    )


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/sessions", tags=["sessions"])

    @api.get("", summary="This account's live sessions")
    async def list_sessions(
        current: Annotated[CurrentUser, Depends(session_user)], state: State
    ) -> list[SessionOut]:
        async with state.db() as db:
            rows = (
                await db.scalars(
                    select(UserSession)
                    .where(UserSession.user_id == current.user.id, UserSession.revoked_at.is_(None))
                    .order_by(UserSession.created_at.desc())
                )
            ).all()
        return [session_out(row, current.session_id) for row in rows]

    @api.delete("/{session_id}", summary="Sign out one of this account's sessions")
    async def delete_session(
        session_id: str,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        state: State,
    ) -> Revoked:
        async with state.db() as db, db.begin():
            ids = await state.sessions.revoke_sessions(
                db, current.user.id, "revoked_by_user", only=session_id[:36]
            )
            if not ids:
                raise NotFound("no live session of yours has this id")
            audit.record(
                db,
                "session_revoked",
                state.client(request),
                user_id=current.user.id,
                sid=session_id,
            )
        return Revoked(revoked=len(ids))

    return api
