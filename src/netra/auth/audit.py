"""The audit log: who did what, from where. Never a password, token or secret."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from netra.auth.mail.messages import Mail
from netra.auth.mail.outbox import Outbox
from netra.auth.models import AuditEvent

MAX_USER_AGENT = 200


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from: its address (after trusted proxies) and User-Agent."""

    ip: str | None = None
    user_agent: str | None = None


def record(
    db: AsyncSession,
    event: str,
    client: ClientInfo | None,
    *,
    user_id: str | None = None,
    actor: str | None = None,
    **detail: Any,
) -> None:
    """Add an event to the caller's transaction (it commits with what it describes).
    Every caller says where the action came from: `client` (address and User-Agent, the
    agent kept in the detail, cut to 200 characters), or None for an operator's command
    or the service itself."""
    if client is not None and client.user_agent:
        detail["user_agent"] = client.user_agent[:MAX_USER_AGENT]
    db.add(
        AuditEvent(
            event=event,
            user_id=user_id,
            actor=actor,
            ip_address=client.ip if client is not None else None,
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
    )


def account_change(
    db: AsyncSession,
    event: str,
    client: ClientInfo | None,
    *,
    user_id: str,
    outbox: Outbox,
    notice: Mail,
    **detail: Any,
) -> None:
    """A change the account's owner must hear of (a password, an address, a key): its
    audit row and the notice mailed to them, in the caller's transaction. The caller
    wakes the outbox once it has committed."""
    record(db, event, client, user_id=user_id, **detail)
    outbox.add(db, notice, user_id=user_id)
