"""`/auth/admin/users...`: list and search accounts, disable/enable and delete them, see
and revoke sessions. Admins only; every action is audited."""

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, or_, select

from netra.auth import audit
from netra.auth.models import AuditEvent, User, UserSession
from netra.auth.payloads import AuditOut, Revoked, SessionOut, UserOut, UserPage
from netra.auth.routes.deps import CurrentUser, State, admin_user
from netra.auth.routes.sessions import session_out
from netra.auth.state import AuthState


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
        disabled_at=user.disabled_at,
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.casefold()}%"


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/admin/users", tags=["admin"])

    @api.get("", summary="List or search accounts")
    async def list_users(
        _: Annotated[CurrentUser, Depends(admin_user)],
        state: State,
        q: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> UserPage:
        query = select(User).where(User.deleted_at.is_(None))
        if q:
            pattern = _like(q)
            query = query.where(
                or_(
                    User.email.like(pattern, escape="\\"),
                    func.lower(User.name).like(pattern, escape="\\"),
                )
            )
        async with state.db() as db:
            total = await db.scalar(select(func.count()).select_from(query.subquery()))
            rows = await db.scalars(query.order_by(User.created_at).limit(limit).offset(offset))
            return UserPage(users=[user_out(u) for u in rows], total=total or 0)

    async def set_active(
        state: AuthState, user_id: str, active: bool, current: CurrentUser, request: Request
    ) -> UserOut:
        client = state.client(request)
        return user_out(await state.admin.set_active(user_id, active, current.user.id, client))

    @api.post("/{user_id}/disable", summary="Disable an account; all its sessions end at once")
    async def disable(
        user_id: str,
        current: Annotated[CurrentUser, Depends(admin_user)],
        request: Request,
        state: State,
    ) -> UserOut:
        return await set_active(state, user_id, False, current, request)

    @api.post("/{user_id}/enable", summary="Enable a disabled account")
    async def enable(
        user_id: str,
        current: Annotated[CurrentUser, Depends(admin_user)],
        request: Request,
        state: State,
    ) -> UserOut:
        return await set_active(state, user_id, True, current, request)

    @api.delete(
        "/{user_id}",
        status_code=204,
        summary="Delete an account: sessions and API keys end at once, personal data is erased",
    )
    async def delete_user(
        user_id: str,
        current: Annotated[CurrentUser, Depends(admin_user)],
        request: Request,
        state: State,
    ) -> Response:
        await state.admin.delete(user_id, current.user.id, state.client(request))
        return Response(status_code=204)

    @api.get("/{user_id}/sessions", summary="An account's live sessions")
    async def user_sessions(
        user_id: str, _: Annotated[CurrentUser, Depends(admin_user)], state: State
    ) -> list[SessionOut]:
        async with state.db() as db:
            rows = await db.scalars(
                select(UserSession)
                .where(UserSession.user_id == user_id[:36], UserSession.revoked_at.is_(None))
                .order_by(UserSession.created_at.desc())
            )
            return [session_out(row) for row in rows]

    @api.delete("/{user_id}/sessions", summary="Sign out every session of an account")
    async def revoke_user_sessions(
        user_id: str,
        current: Annotated[CurrentUser, Depends(admin_user)],
        request: Request,
        state: State,
        session_id: Annotated[str | None, Query(max_length=36)] = None,
    ) -> Revoked:
        async with state.db() as db, db.begin():
            ids = await state.sessions.revoke_sessions(
                db, user_id[:36], "revoked_by_admin", only=session_id
            )
            audit.record(
                db,
                "admin_revoked_sessions",
                state.client(request),
                user_id=user_id[:36],
                actor=current.user.id,
                revoked=len(ids),
            )
        return Revoked(revoked=len(ids))

    @api.get("/{user_id}/audit", summary="An account's audit events, newest first")
    async def user_audit(
        user_id: str,
        _: Annotated[CurrentUser, Depends(admin_user)],
        state: State,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[AuditOut]:
        async with state.db() as db:
            rows = await db.scalars(
                select(AuditEvent)
                .where(AuditEvent.user_id == user_id[:36])
                .order_by(AuditEvent.created_at.desc())
                .limit(limit)
            )
            return [
                AuditOut(
                    event=row.event,
                    created_at=row.created_at,
                    actor=row.actor,
                    ip_address=row.ip_address,
                    detail=json.loads(row.detail),
                )
                for row in rows
            ]

    return api
