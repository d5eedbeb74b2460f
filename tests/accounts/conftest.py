"""Fixtures of the accounts suite: a real SMTP server and an auth service sending to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from netra import db
from netra.auth.app import create_app
from netra.settings import Service
from tests.support.accounts import PUBLIC_URL, ServiceFactory
from tests.support.apps import SettingsFactory, running
from tests.support.smtp import SmtpServer


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_env(smtp: SmtpServer, database_env: dict[str, str]) -> dict[str, str]:
    """Settings of a service on a fresh SQLite, and a fresh PostgreSQL, database."""
    return {
        **database_env,
        "SMTP_URL": smtp.url,
        "PUBLIC_URL": PUBLIC_URL,
        "MAIL_RETRY_INTERVAL": "0.2",
        "SMTP_TIMEOUT": "5",
    }


@pytest.fixture
def service(make_settings: SettingsFactory, mail_env: dict[str, str]) -> ServiceFactory:
    """`async with service(**ENV)`: the auth service mailing to the test's SMTP server
    (a variable given as "" is left unset)."""

    def start(**env: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        merged = {name: value for name, value in {**mail_env, **env}.items() if value}
        return running(create_app(make_settings([Service.AUTH], **merged)))

    return start


@pytest.fixture
async def accounts(service: ServiceFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with service() as client:
        yield client


@pytest.fixture
def database(
    make_settings: SettingsFactory, mail_env: dict[str, str]
) -> Callable[[], AbstractAsyncContextManager[AsyncSession]]:
    """A transaction on the service's database, for moving clocks (expiring tokens)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def session() -> AsyncIterator[AsyncSession]:
        engine = db.create_engine(make_settings([Service.AUTH], **mail_env))
        try:
            async with db.sessionmaker(engine)() as tx, tx.begin():
                yield tx
        finally:
            await engine.dispose()

    return session
