"""Usage fixtures: a usage store on a fresh database of each kind, as several backend
instances would have it (one engine each)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from netra import db
from netra.chat.schema import CHAT_SCHEMA
from netra.db import migrations
from netra.settings import Settings
from netra.usage.store import UsageStore
from tests.support.apps import SettingsFactory
from tests.support.usage import Instances


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
