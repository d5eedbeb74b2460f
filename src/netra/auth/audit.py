"""The audit log: who did what, from where. Never a password, token or secret."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from netra.auth.models import AuditEvent


def record(
    db: AsyncSession,
    event: str,
    *,
    user_id: str | None = None,
    actor: str | None = None,
    ip: str | None = None,
    agent: str | None = None,
    **detail: Any,
) -> None:
    """Add an event to the caller's transaction (it commits with what it describes);
    `agent` (the client's User-Agent) is kept in the detail, cut to 200 characters."""
    if agent:
        detail["user_agent"] = agent[:200]
    db.add(
        AuditEvent(
            event=event,
            user_id=user_id,
            actor=actor,
            ip_address=ip,
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
    )
