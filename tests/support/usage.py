"""Usage helpers: principals, posting a message and waiting for its run's end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from netra.tokens import Principal
from netra.usage.store import UsageStore

Instances = Callable[[int], list[UsageStore]]


def principal(user_id: str = "u1", *roles: str, email: str | None = None) -> Principal:
    return Principal(
        subject=user_id, kind="access", roles=frozenset(roles or ("user",)), email=email
    )


async def post(client: httpx.AsyncClient, text: str = "hello") -> httpx.Response:
    """Create a thread and post one message in it."""
    thread = await client.post("/api/threads", json={"title": "t"})
    assert thread.status_code == 201, thread.text
    return await client.post(f"/api/threads/{thread.json()['id']}/messages", json={"text": text})


async def finished(client: httpx.AsyncClient, thread_id: str) -> list[dict[str, Any]]:
    """The thread's events once its run has ended."""
    for _ in range(200):
        page = (await client.get(f"/api/threads/{thread_id}/events")).json()
        if page["items"] and page["items"][-1]["type"] in ("agent_completed", "agent_error"):
            return list(page["items"])
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not end")
