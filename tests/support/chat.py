"""The chat backend under test: the embedded app (auth + backend, the scripted agent)
served by uvicorn on a free port, real accounts signed in at its auth service, sockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from netra.auth.component import AuthComponent
from netra.auth.models import User
from netra.chat.backend import ChatBackend
from netra.chat.component import ChatComponent
from netra.chat.models import Message, Run, RunEvent
from netra.runtime import runtime_of
from netra.service import build_app
from netra.settings import Settings
from netra.testing import PASSWORD, AppServer, NetraProcess, ScriptedAgent, Users, eventually
from netra.testing.accounts import email
from netra.tokens import ServiceTokenClient

ALICE = "alice"


@dataclass
class Server:
    """A chat backend at `url` whose users sign in at `users.auth_url` (this very process
    when embedded); `app`, `chat` and `http_server` only when it runs in the test's process,
    `process` when it runs in one of its own."""

    url: str
    users: Users
    app: FastAPI | None = None
    chat: ChatComponent | None = None
    http_server: AppServer | None = None
    process: NetraProcess | None = None  # when it runs in a process of its own

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


Serve = Callable[..., Awaitable[Server]]


def chat_app(settings: Settings) -> tuple[FastAPI, ChatComponent]:
    """The embedded composition (netra.embedded) with the scripted agent."""
    chat = ChatComponent(agent_factory=lambda _: ScriptedAgent())
    return build_app(settings, [AuthComponent(), chat]), chat


async def start_server(app: FastAPI, chat: ChatComponent | None = None) -> Server:
    """`app` (auth included) under uvicorn on a free port, once its startup completed."""
    http_server = AppServer(app)
    await http_server.start()
    url = http_server.url
    return Server(url, Users(url), app=app, chat=chat, http_server=http_server)


async def stop_server(server: Server) -> None:
    assert server.http_server is not None
    await server.http_server.stop()


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


async def drain(ws: Any) -> None:
    for _ in range(100_000):
        await asyncio.wait_for(ws.recv(), 5)


async def closed_with(ws: Any) -> tuple[int | None, str | None]:
    """The close code and reason the server sent (messages before it are skipped)."""
    with pytest.raises(ConnectionClosed) as info:
        await drain(ws)
    close = info.value.rcvd
    return (close.code, close.reason) if close else (None, None)


async def count_rows(srv: Server) -> tuple[int, int, int]:
    """Messages, runs and run events in the backend's database."""
    async with srv.backend.runtime.db() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Message)) or 0),
            int(await session.scalar(select(func.count()).select_from(Run)) or 0),
            int(await session.scalar(select(func.count()).select_from(RunEvent)) or 0),
        )


async def wait_run(srv: Server, user: str, run_id: str, timeout: float = 4.0) -> dict[str, Any]:
    """The run once it is no longer queued or running."""
    async with srv.http(user) as client:

        async def finished() -> dict[str, Any] | None:
            run: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
            return None if run["status"] in ("queued", "running") else run

        return await eventually(finished, timeout, f"run {run_id} did not finish", 0.02)


async def promote(srv: Server, user: str) -> str:
    """Make `user` an admin with `netra users create-admin --promote`'s domain call, then
    sign in again: the access token carrying the role."""
    async with srv.backend.runtime.db.begin() as session:
        account = await session.get(User, await srv.users.id(user))
        assert account is not None
        account.role = "admin"
    async with httpx.AsyncClient(base_url=srv.users.auth_url) as http:
        login = await http.post("/auth/login", json={"email": email(user), "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])
