"""Fixtures of the auth suite: a running auth service on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from netra.auth.app import create_app
from netra.settings import Service
from tests.support.apps import SettingsFactory, running
from tests.support.auth import AuthClientFactory


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'auth.db'}"}


@pytest.fixture
def auth_service(make_settings: SettingsFactory) -> AuthClientFactory:
    """`async with auth_service(**ENV) as client`: an auth service with these settings."""

    def start(**env: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        settings = make_settings([Service.AUTH], **env)
        return running(create_app(settings))

    return start


@pytest.fixture
async def auth(
    auth_service: AuthClientFactory, database_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """The auth service on a fresh SQLite and a fresh PostgreSQL database."""
    async with auth_service(**database_env) as client:
        yield client


@pytest.fixture
async def auth_sqlite(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """The auth service on SQLite only (cases whose database does not matter)."""
    async with auth_service(**sqlite_env) as client:
        yield client
