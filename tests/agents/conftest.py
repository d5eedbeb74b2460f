"""Fixtures for the agent runtime: user data, run contexts, and real HTTP servers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from netra.agents import AgentEvent, AgentRun, ChatTurn, MessageHit, RunContext


@dataclass
class StoredMessage:
    user_id: str
    thread_id: str
    content: str
    role: str = "user"


@dataclass
class MemoryUserData:
    """The `UserData` protocol over a list, scoped to one user like the backend's is."""

    user_id: str
    thread_id: str
    messages: list[StoredMessage] = field(default_factory=list)

    async def search_messages(self, query: str, limit: int) -> list[MessageHit]:
        words = query.lower().split()
        own = [m for m in self.messages if m.user_id == self.user_id]
        found = [m for m in own if all(word in m.content.lower() for word in words)]
        return [
            MessageHit(m.thread_id, f"thread {m.thread_id}", f"m{i}", m.role, m.content, NOW)
            for i, m in enumerate(found[:limit])
        ]

    async def thread_history(self) -> list[ChatTurn]:
        return [
            ChatTurn("user" if m.role == "user" else "assistant", m.content)
            for m in self.messages
            if m.user_id == self.user_id and m.thread_id == self.thread_id
        ]


NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_context(data: MemoryUserData | None = None, timezone: str = "UTC") -> RunContext:
    data = data or MemoryUserData("alice", "t1")
    return RunContext(data.user_id, data.thread_id, "run-1", data, timezone)


@pytest.fixture
def context() -> RunContext:
    return make_context()


async def collect(run: AgentRun | AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    return [event async for event in run]


# --- a real OpenAI-compatible HTTP server with scripted replies and faults --------------

Reply = Callable[[Request], Any]


def chunk(
    content: str | None = None,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    finish: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One `chat.completion.chunk` as a server sends it."""
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "scripted",
        "choices": choices,
    }
    if usage:
        body["usage"] = usage
    return body


def answer_chunks(text: str, usage: tuple[int, int] | None = (11, 3)) -> list[dict[str, Any]]:
    chunks = [chunk(part) for part in re.findall(r"\S+\s*", text)] + [chunk(finish="stop")]
    if usage:
        prompt, completion = usage
        chunks.append(
            chunk(
                usage={
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                }
            )
        )
    return chunks


class ScriptedServer:
    """Answers each POST /v1/chat/completions with the next scripted reply."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.stream_closed = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def endpoint(self, request: Request) -> Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if not self.replies:
            return Response("no reply scripted", status_code=599)
        return await self.replies.pop(0)(request)

    def sse(
        self,
        chunks: list[dict[str, Any]],
        *,
        done: bool = True,
        stall: bool = False,
        cut: bool = False,
    ) -> Reply:
        """A streamed reply; `stall` hangs after the chunks, `cut` drops the connection."""

        async def body() -> AsyncIterator[str]:
            try:
                for item in chunks:
                    yield f"data: {json.dumps(item)}\n\n"
                if cut:
                    raise ConnectionAbortedError("scripted: connection cut mid-stream")
                if stall:
                    await asyncio.sleep(3600)
                if done:
                    yield "data: [DONE]\n\n"
            except asyncio.CancelledError:
                self.stream_closed.set()
                raise

        async def reply(request: Request) -> Response:
            return StreamingResponse(body(), media_type="text/event-stream")

        return reply

    @staticmethod
    def status(
        code: int,
        body: str = "",
        headers: dict[str, str] | None = None,
        media_type: str = "application/json",
    ) -> Reply:
        async def reply(request: Request) -> Response:
            return Response(body, status_code=code, headers=headers, media_type=media_type)

        return reply


async def models(request: Request) -> Response:
    """The model list a readiness probe asks for."""
    return JSONResponse({"object": "list", "data": [{"id": "tiny-model", "object": "model"}]})


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer()
    routes = [
        Route("/v1/chat/completions", server.endpoint, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="critical",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    uv_server = uvicorn.Server(config)
    task = asyncio.create_task(uv_server.serve())
    while not uv_server.started:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    server.port = uv_server.servers[0].sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        uv_server.should_exit = True
        await task
