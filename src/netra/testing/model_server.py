"""A real OpenAI-compatible HTTP server whose answers a test scripts: streamed replies,
HTTP errors, stalls and cut connections on demand (for what a real model cannot do when
asked). Netra's `openai` provider talks to it like to any other server."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from netra.testing.servers import AppServer

Reply = Callable[[Request], Awaitable[Response]]


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
    """`text` streamed a word at a time, then `stop` (and a usage chunk unless None)."""
    chunks = [chunk(part) for part in re.findall(r"\S+\s*", text)] + [chunk(finish="stop")]
    if usage:
        prompt, completion = usage
        total = prompt + completion
        counts = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
        chunks.append(chunk(usage=counts))
    return chunks


def last_user_message(body: dict[str, Any]) -> str:
    """The text of the newest user message of a chat completion request."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return str(users[-1].get("content", "")) if users else ""


class ScriptedModelServer:
    """Answers each POST /v1/chat/completions with the next scripted reply, else with
    `default` (else 599); GET /v1/models lists one model, as readiness asks. Requests
    are kept in `requests`. `async with` serves it in the running loop; `in_thread()`
    for synchronous callers."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # of each request, e.g. its traceparent
        self.stream_closed = asyncio.Event()
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._complete, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )
        self.http = AppServer(
            app, log_level="critical", lifespan="off", timeout_graceful_shutdown=1
        )
        self.base_url = f"{self.http.url}/v1"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def _complete(self, request: Request) -> Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.replies:
            return await self.replies.pop(0)(request)
        if self.default is not None:
            return await self.default(request)
        return Response("no reply scripted", status_code=599)

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    def sse(
        self,
        chunks: list[dict[str, Any]],
        *,
        done: bool = True,
        stall: bool = False,
        cut: bool = False,
        pause: float = 0.0,
    ) -> Reply:
        """A streamed reply, `pause` seconds before each chunk; `stall` hangs after the
        chunks, `cut` drops the connection; `stream_closed` is set if the client leaves."""

        async def body() -> AsyncIterator[str]:
            try:
                for item in chunks:
                    if pause:
                        await asyncio.sleep(pause)
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
        """A plain (not streamed) answer: an error status, an HTML page."""

        async def reply(request: Request) -> Response:
            return Response(body, status_code=code, headers=headers, media_type=media_type)

        return reply

    async def __aenter__(self) -> ScriptedModelServer:
        await self.http.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.http.stop()

    @contextmanager
    def in_thread(self) -> Iterator[ScriptedModelServer]:
        with self.http.in_thread():
            yield self
