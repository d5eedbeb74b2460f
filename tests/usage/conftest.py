"""Usage fixtures: a usage store on a fresh database of each kind, as several backend
instances would have it (one engine each), and helpers to post messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from netra import db
from netra.chat.schema import CHAT_SCHEMA
from netra.db import migrations
from netra.settings import Settings
from netra.tokens import Principal
from netra.usage.store import UsageStore
from tests.support.apps import SettingsFactory

Instances = Callable[[int], list[UsageStore]]


def principal(user_id: str = "u1", *roles: str, email: str | None = None) -> Principal:
    return Principal(
        subject=user_id, kind="access", roles=frozenset(roles or ("user",)), email=email
    )


@pytest.fixture
async def usage_settings(make_settings: SettingsFactory, database_env: dict[str, str]) -> Settings:
    settings = make_settings(**database_env)
    engine = db.create_engine(settings)

    await migrations.upgrade(engine, [CHAT_SCHEMA])
    await engine.dispose()
    return settings


@pytest.fixture
async def instances(usage_settings: Settings) -> AsyncIterator[Instances]:
    """`instances(n)`: n usage stores, each with its own engine (pool), on one database."""
    engines = []

    def make(count: int) -> list[UsageStore]:
        stores = []
        for _ in range(count):
            engine = db.create_engine(usage_settings)
            engines.append(engine)
            stores.append(UsageStore(db.sessionmaker(engine)))
        return stores

    yield make
    await asyncio.gather(*(engine.dispose() for engine in engines))


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
