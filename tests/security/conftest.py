"""Fixtures of the security suite (issue 15): the embedded app (auth and backend in one
process), in-process; the auth service alone is tests/conftest.py's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Service
from tests.support.apps import EmbeddedFactory, SettingsFactory, running


@pytest.fixture
def embedded_service(make_settings: SettingsFactory, tmp_path: Path) -> EmbeddedFactory:
    """`async with embedded_service(**ENV) as client`: auth and backend in one app."""

    def start(**env: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}", **env}
        settings = make_settings([Service.AUTH, Service.BACKEND], **env)
        return running(build_app(settings, [AuthComponent(), ChatComponent()]))

    return start


@pytest.fixture
async def embedded(embedded_service: EmbeddedFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with embedded_service() as client:
        yield client
