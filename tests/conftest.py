"""Shared fixtures: real SQLite and PostgreSQL databases, settings, running apps."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from netra.settings import Service, Settings, load_settings

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def create_pg_database() -> str:
    name = f"netra_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_env(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, str]]:
    """Settings environment for a fresh, empty database of each supported kind."""
    if request.param == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}"}
        return
    name = await create_pg_database()
    try:
        yield {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}"}
    finally:
        await drop_pg_database(name)


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """`make_settings(services=..., **ENV)`: resolve the contract like a process would."""

    def build(services: list[Service] | None = None, **env: str) -> Settings:
        environ = {"ENVIRONMENT": "test", "DATA_DIR": str(tmp_path / "data"), **env}
        return load_settings(services or list(Service), environ, cwd=tmp_path)

    return build


@asynccontextmanager
async def running(
    app: FastAPI, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with its lifespan started, and an HTTP client talking to it in-process."""
    async with LifespanManager(app, startup_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
