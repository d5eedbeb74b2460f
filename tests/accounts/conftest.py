"""Fixtures of the accounts suite: a real SMTP server and an auth service sending to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from netra import db
from netra.auth.app import create_app
from netra.settings import Service
from tests.accounts.smtp import SmtpServer, token_in
from tests.auth.conftest import PASSWORD, bearer
from tests.conftest import SettingsFactory, running

PUBLIC_URL = "https://chat.example.test"
ServiceFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


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


async def register(
    client: httpx.AsyncClient, smtp: SmtpServer, email: str = "ada@example.com"
) -> str:
    """Register; returns the token of the verification link mailed (notices of earlier
    steps that arrive first are passed over)."""
    answer = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    while True:
        message = await smtp.mailbox.next()
        if (message["To"], message["Subject"]) == (email, "Confirm your email address"):
            return token_in(message)


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    answer = await client.post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def make_admin(session: AsyncSession, email: str) -> None:
    from netra.auth.models import User

    await session.execute(update(User).where(User.email == email).values(role="admin"))


__all__ = ["PASSWORD", "bearer"]
