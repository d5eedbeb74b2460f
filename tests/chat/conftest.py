"""Chat fixtures: a backend served by uvicorn on a free port, users, sockets.

Until the agents and auth branches land, `ScriptedAgent` and `StubVerifier` implement
the `Agent` and `Verifier` protocols here (tests only)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from netra.agents.events import (
    AgentCompleted,
    AgentEvent,
    AgentStarted,
    AgentThinking,
    MessageDelta,
    ToolCompleted,
    ToolExecuting,
)
from netra.agents.runtime import ChatTurn, RunContext
from netra.chat.backend import ChatBackend
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Settings
from netra.tokens import Principal, TokenRejected
from tests.conftest import SettingsFactory
from tests.processes import free_port


class StubVerifier:
    """`user.<id>` or `user.<id>.<milliseconds to expiry>`; anything else is rejected."""

    async def verify(self, token: str) -> Principal:
        parts = token.split(".")
        if parts[0] == "service":
            return Principal(subject="svc", kind="service")
        if parts[0] != "user" or len(parts) < 2:
            raise TokenRejected("invalid_signature", "invalid token")
        expires = datetime.now(UTC) + timedelta(
            milliseconds=float(parts[2]) if len(parts) > 2 else 900_000
        )
        if expires <= datetime.now(UTC):
            raise TokenRejected("expired", "token expired")
        return Principal(subject=parts[1], kind="access", expires_at=expires)


class ScriptedAgent:
    """Answers by echoing; words in the message change its behaviour: `slow` (a delay per
    delta), `hang` (never answers), `crash` (a tool raises inside the provider)."""

    name = "scripted"

    async def probe(self) -> str:
        return "scripted test agent"

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        yield AgentStarted(provider=self.name)
        yield AgentThinking(text=f"{len(history)} earlier turns")
        if "hang" in message:
            await asyncio.sleep(3600)
        if "crash" in message:
            yield ToolExecuting(call_id="c1", tool="explode", arguments={})
            raise RuntimeError("tool explode raised ValueError: boom")
        if "search" in message:
            hits = await context.data.search_messages("search", 10)
            yield ToolExecuting(call_id="c1", tool="search", arguments={"q": "search"})
            yield ToolCompleted(call_id="c1", tool="search", result=len(hits), duration_ms=1)
        if message.startswith("bulk"):
            for _ in range(int(message.split()[1])):
                yield MessageDelta(text="x" * 1000)
        words = [f"{w} " for w in f"you said: {message}".split()]
        for word in words:
            if "slow" in message:
                await asyncio.sleep(0.05)
            yield MessageDelta(text=word)
        yield AgentCompleted(text="".join(words), duration_ms=1.0)


@dataclass
class Server:
    app: FastAPI
    url: str
    server: uvicorn.Server

    @property
    def backend(self) -> ChatBackend:
        backend = self.app.state.chat_component.backend
        assert backend is not None
        return backend  # type: ignore[no-any-return]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/ws"

    def http(self, user: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer user.{user}"} if user else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)


def chat_app(settings: Settings) -> FastAPI:
    component = ChatComponent(agent_factory=lambda _: ScriptedAgent())
    app = build_app(settings, [component])
    app.state.runtime.verifier = StubVerifier()
    app.state.chat_component = component
    return app


async def start_server(app: FastAPI) -> Server:
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
    server_task = task
    setattr(server, "_netra_task", server_task)  # noqa: B010
    return Server(app, f"http://127.0.0.1:{port}", server)


async def stop_server(server: Server) -> None:
    server.server.should_exit = True
    await getattr(server.server, "_netra_task")  # noqa: B009


Serve = Callable[..., Awaitable["Server"]]


@pytest.fixture
async def serve(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """`await serve(**ENV)`: a backend with extra settings, stopped after the test."""
    started: list[Server] = []

    async def start(**env: str) -> Server:
        srv = await start_server(chat_app(make_settings(**{**database_env, **env})))
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await stop_server(srv)


@pytest.fixture
async def server(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Server]:
    srv = await start_server(chat_app(make_settings(**database_env, RUN_TIMEOUT="2")))
    try:
        yield srv
    finally:
        await stop_server(srv)


ALICE = "user.alice"


def connect(srv: Server, token: str | None = ALICE, **kwargs: Any) -> Any:
    protocols = ["netra.v1"] + ([f"bearer.{token}"] if token else [])
    return websockets.connect(srv.ws_url, subprotocols=protocols, **kwargs)  # type: ignore[arg-type]


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


async def new_thread(srv: Server, user: str = "alice") -> str:
    async with srv.http(user) as client:
        response = await client.post("/api/threads", json={"title": "t"})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])
