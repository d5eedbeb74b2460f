"""The audit log as people read it: `/auth/activity` (your own recent security events)
and `/auth/admin/audit` (every account's, searchable)."""

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Select, or_, select

from netra.auth.models import AuditEvent, User
from netra.auth.payloads import AuditOut
from netra.auth.routes.deps import CurrentUser, State, admin_user, session_user


def audit_out(row: AuditEvent) -> AuditOut:
    return AuditOut(
        event=row.event,
        created_at=row.created_at,
        actor=row.actor,
        ip_address=row.ip_address,
        detail=json.loads(row.detail),
        user_id=row.user_id,
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.casefold()}%"


def router() -> APIRouter:
    api = APIRouter(prefix="/auth", tags=["audit"])

    async def rows(state: State, query: Select[AuditEvent], limit: int) -> list[AuditOut]:
        async with state.db() as db:
            found = await db.scalars(query.order_by(AuditEvent.created_at.desc()).limit(limit))
            return [audit_out(row) for row in found]

    @api.get("/activity", summary="This account's recent security events, newest first")
    async def activity(
        state: State,
        current: Annotated[CurrentUser, Depends(session_user)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[AuditOut]:
        return await rows(
            state, select(AuditEvent).where(AuditEvent.user_id == current.user.id), limit
        )

    @api.get("/admin/audit", summary="Every account's audit events, searchable")
    async def search(
        state: State,
        _: Annotated[CurrentUser, Depends(admin_user)],
        q: Annotated[str | None, Query(max_length=200, description="email or IP contains")] = None,
        event: Annotated[str | None, Query(max_length=60)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[AuditOut]:
        query = select(AuditEvent)
        if event:
            query = query.where(AuditEvent.event == event)
        if q:
            pattern = _like(q)
            owners = select(User.id).where(User.email.like(pattern, escape="\\"))
            query = query.where(
                or_(
                    AuditEvent.user_id.in_(owners),
                    AuditEvent.ip_address.like(pattern, escape="\\"),
                )
            )
        return await rows(state, query, limit)

    return api
