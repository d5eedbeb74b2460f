"""Chat fixtures: the embedded app (auth + backend, the scripted agent) served by uvicorn
on a free port, real accounts signed in at its auth service, sockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from netra.auth.component import AuthComponent
from netra.chat.backend import ChatBackend
from netra.chat.component import ChatComponent
from netra.runtime import runtime_of
from netra.service import build_app
from netra.settings import Settings
from netra.tokens import ServiceTokenClient
from tests.auth.conftest import PASSWORD, sign_up
from tests.chat.scripted import ScriptedAgent
from tests.conftest import SettingsFactory
from tests.processes import free_port

ALICE = "alice"


def email(user: str) -> str:
    return f"{user}@example.com"


class Users:
    """Real accounts of the auth service at `auth_url`, each registered and signed in on
    first use (two argon2id hashes an account: a test pays only for the users it uses)."""

    def __init__(self, auth_url: str) -> None:
        self.auth_url = auth_url
        self._logins: dict[str, dict[str, Any]] = {}

    async def sign_in(self, user: str = ALICE) -> dict[str, Any]:
        """`user`'s login answer (access and refresh token, session id)."""
        if user not in self._logins:
            async with httpx.AsyncClient(base_url=self.auth_url, timeout=30) as http:
                self._logins[user] = await sign_up(http, email(user), PASSWORD)
        return self._logins[user]

    async def token(self, user: str = ALICE) -> str:
        return str((await self.sign_in(user))["access_token"])

    async def id(self, user: str = ALICE) -> str:
        """The account id the auth service gave `user` (the `sub` of its tokens)."""
        headers = {"Authorization": f"Bearer {await self.token(user)}"}
        async with httpx.AsyncClient(base_url=self.auth_url, headers=headers) as http:
            me = await http.get("/auth/me")
        assert me.status_code == 200, me.text
        return str(me.json()["id"])


@dataclass
class Server:
    """A chat backend at `url` whose users sign in at `users.auth_url` (this very process
    when embedded); `app`, `chat` and `uvicorn_server` only when it runs in the test's process."""

    url: str
    users: Users
    app: FastAPI | None = None
    chat: ChatComponent | None = None
    uvicorn_server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def backend(self) -> ChatBackend:
        assert self.chat is not None
        assert self.chat.backend is not None
        return self.chat.backend

    @property
    def settings(self) -> Settings:
        assert self.app is not None
        return runtime_of(self.app).settings

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/ws"

    @asynccontextmanager
    async def http(self, user: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client of the backend signed in as `user` (anonymous with None)."""
        headers = {"Authorization": f"Bearer {await self.users.token(user)}"} if user else {}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10) as client:
            yield client


def chat_app(settings: Settings) -> tuple[FastAPI, ChatComponent]:
    """The embedded composition (netra.embedded) with the scripted agent."""
    chat = ChatComponent(agent_factory=lambda _: ScriptedAgent())
    return build_app(settings, [AuthComponent(), chat]), chat


async def start_server(app: FastAPI, chat: ChatComponent | None = None) -> Server:
    """`app` (auth included) under uvicorn on a free port, once its startup completed."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    url = f"http://127.0.0.1:{port}"
    return Server(url, Users(url), app=app, chat=chat, uvicorn_server=server, task=task)


async def stop_server(server: Server) -> None:
    assert server.uvicorn_server is not None
    assert server.task is not None
    server.uvicorn_server.should_exit = True
    await server.task


Serve = Callable[..., Awaitable[Server]]


@pytest.fixture
async def serve(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """`await serve(**ENV)`: the app with extra settings, stopped after the test (the same
    database and DATA_DIR each time: a second call is a restart)."""
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
    srv = await start_server(*chat_app(make_settings(**database_env, RUN_TIMEOUT="2")))
    try:
        yield srv
    finally:
        await stop_server(srv)


async def service_token(srv: Server) -> str:
    """A service token from the auth service, asked for exactly as a backend asks."""
    secret = srv.settings.service_secret
    assert secret is not None
    async with httpx.AsyncClient() as http:
        client = ServiceTokenClient(
            srv.users.auth_url + "/auth/service-token",
            srv.settings.service_id,
            secret.get_secret_value(),
            http,
        )
        return await client.token()


async def until_expired(token: str) -> None:
    """Sleep until the access token's `exp` has passed (read, not verified: the verifier
    under test does that)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    await asyncio.sleep(max(0.0, float(claims["exp"]) - time.time()) + 0.05)


@asynccontextmanager
async def connect(
    srv: Server, user: str | None = ALICE, *, token: str | None = None, **kwargs: Any
) -> AsyncIterator[Any]:
    """A /ws socket offering `token`, else `user`'s access token (neither: no token)."""
    if token is None and user is not None:
        token = await srv.users.token(user)
    protocols: Any = ["netra.v1"] + ([f"bearer.{token}"] if token else [])
    async with websockets.connect(srv.ws_url, subprotocols=protocols, **kwargs) as ws:
        yield ws


async def recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def recv_until(ws: Any, kind: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Messages up to and including the first of type `kind` (heartbeats skipped)."""
    seen = []
    while True:
        message = await recv(ws, timeout)
        if message["type"] == "heartbeat":
            continue
        seen.append(message)
        if message["type"] == kind:
            return seen


async def new_thread(srv: Server, user: str = ALICE) -> str:
    async with srv.http(user) as client:
        response = await client.post("/api/threads", json={"title": "t"})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])
