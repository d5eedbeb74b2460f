"""`/auth/admin/users...`: list and search accounts, disable/enable and delete them, see
and revoke sessions. Admins only; every action is audited."""

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from netra.auth import audit
from netra.auth.errors import AuthError, SafeRoute
from netra.auth.models import AuditEvent, OidcIdentity, User, UserSession
from netra.auth.payloads import AuditOut, Revoked, SessionOut, UserOut, UserPage
from netra.auth.routes.deps import CurrentUser, State, admin_user
from netra.auth.routes.sessions import session_out
from netra.auth.state import AuthState
from netra.db.base import utcnow


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


async def live_user(db: AsyncSession, user_id: str) -> User:
    user = await db.get(User, user_id[:36])
    if user is None or user.deleted_at is not None:
        raise AuthError(404, "not_found", "no account has this id")
    return user


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/admin/users", tags=["admin"], route_class=SafeRoute)

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
        if user_id == current.user.id and not active:
            raise AuthError(409, "conflict", "an admin cannot disable their own account")
        async with state.db() as db, db.begin():
            user = await live_user(db, user_id)
            user.is_active, user.disabled_at = active, None if active else utcnow()
            revoked = 0
            if not active:
                revoked = len(await state.sessions.revoke_sessions(db, user.id, "account_disabled"))
                await state.api_keys.revoke(db, user.id)
            audit.record(
                db,
                "user_enabled" if active else "user_disabled",
                user_id=user.id,
                actor=current.user.id,
                ip=state.client(request).ip,
                revoked=revoked,
            )
        return user_out(user)

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
        if user_id == current.user.id:
            raise AuthError(409, "conflict", "an admin cannot delete their own account")
        async with state.db() as db, db.begin():
            user = await live_user(db, user_id)
            revoked = len(await state.sessions.revoke_sessions(db, user.id, "account_deleted"))
            await state.api_keys.revoke(db, user.id)
            # The row stays as a tombstone so the sessions' revocations keep being served
            # to backends (`/auth/revocations`) until the last access token has expired;
            # everything that identified the person goes, and the address is free again.
            now = utcnow()
            user.email = f"deleted-{user.id}@deleted.invalid"
            user.name = user.password_hash = None
            user.is_active, user.disabled_at, user.deleted_at = False, now, now
            await db.execute(delete(OidcIdentity).where(OidcIdentity.user_id == user.id))
            await db.execute(
                update(UserSession)
                .where(UserSession.user_id == user.id)
                .values(user_agent=None, ip_address=None)
            )
            audit.record(
                db,
                "user_deleted",
                user_id=user.id,
                actor=current.user.id,
                ip=state.client(request).ip,
                revoked=revoked,
            )
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
                user_id=user_id[:36],
                actor=current.user.id,
                ip=state.client(request).ip,
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
