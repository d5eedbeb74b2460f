"""Shared fixtures: real SQLite and PostgreSQL databases, settings, the chat app served.
Helpers live in plain modules (tests/support/, netra.testing); this file only declares
fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import RSAKey

from netra.auth.app import create_app
from netra.settings import Service, Settings, load_settings
from netra.testing import free_port
from tests.support.apps import SettingsFactory, running
from tests.support.auth import AuthClientFactory
from tests.support.chat import Serve, Server, chat_app, start_server, stop_server
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.oidc import Provider, install_provider, start_provider


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
async def database_env(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, str]]:
    """Settings environment for a fresh, empty database of each supported kind. The
    PostgreSQL leg of each such test runs in the slow tier (`make test-slow`, CI): a
    database and a server per test made the default suite pass ten minutes on 2 cores;
    the tests written for PostgreSQL alone (concurrency, migrations, outages) stay in it."""
    if request.param == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}"}
        return
    name = await create_pg_database()
    try:
        yield {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}"}
    finally:
        await drop_pg_database(name)


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """`make_settings(services=..., **ENV)`: resolve the contract like a process would."""

    def build(services: list[Service] | None = None, **env: str) -> Settings:
        environ = {"ENVIRONMENT": "test", "DATA_DIR": str(tmp_path / "data"), **env}
        return load_settings(services or list(Service), environ, cwd=tmp_path)

    return build


@pytest.fixture
async def serve(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Serve]:
    """`await serve(**ENV)`: the chat app (tests/support/chat.py) with extra settings,
    stopped after the test (the same database and DATA_DIR each time: a second call is a
    restart)."""
    started: list[Server] = []

    async def start(**env: str) -> Server:
        srv = await start_server(*chat_app(make_settings(**{**database_env, **env})))
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await stop_server(srv)


@pytest.fixture
async def server(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Server]:
    """The chat app on each database, runs timing out after 2 s."""
    srv = await start_server(*chat_app(make_settings(**database_env, RUN_TIMEOUT="2")))
    try:
        yield srv
    finally:
        await stop_server(srv)


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


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    install_provider()
    key = RSAKey.generate_key(
        2048, parameters={"kid": "provider-key", "use": "sig", "alg": "RS256"}
    )
    private_jwk = key.as_dict(private=True)
    port = free_port()
    process = start_provider(port, private_jwk, tmp_path_factory.mktemp("oidc") / "provider.log")
    yield Provider(f"http://127.0.0.1:{port}", port, private_jwk)
    process.terminate()
    process.wait(timeout=10)
