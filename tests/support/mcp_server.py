"""Netra's own MCP server under test: the SDK's client (streamable HTTP) at a chat
backend's `/mcp`, as an IDE or another agent connects, API keys to connect with, and a
proxy adding the credential for clients that cannot (the npm conformance suite)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from starlette.types import Receive, Scope, Send

from netra.testing import PASSWORD, bearer
from tests.support.chat import Server

# `await serve_mcp(**ENV)`: the chat app with these settings (tests/chat/mcp_server).
ServeMcp = Callable[..., Awaitable[Server]]


@asynccontextmanager
async def mcp_client(url: str, token: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP session at `url` (the backend's /mcp) sending `token` as Bearer."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def api_key(srv: Server, user: str, *scopes: str) -> str:
    """A new API key of `user` holding `scopes`."""
    async with httpx.AsyncClient(base_url=srv.url) as http:
        created = await http.post(
            "/auth/api-keys",
            json={"name": "mcp", "scopes": list(scopes), "password": PASSWORD},
            headers=bearer(await srv.users.token(user)),
        )
    assert created.status_code == 201, created.text
    return str(created.json()["api_key"])


def structured(result: types.CallToolResult) -> dict[str, Any]:
    """A successful call's structured result."""
    assert not result.is_error, result.content
    assert result.structured_content is not None, result.content
    return result.structured_content


def error_text(result: types.CallToolResult) -> str:
    """A tool error's text (the call must have failed)."""
    assert result.is_error, result.structured_content
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


def events_of(messages: list[str | None]) -> list[dict[str, Any]]:
    """The run events carried by progress notifications' messages."""
    return [json.loads(message) for message in messages if message]


class BearerProxy:
    """An ASGI app forwarding every HTTP request to `target` with `Authorization: Bearer
    token` added, streaming the answer back: for MCP clients that cannot send a header
    (the conformance suite's client). Serve it with `lifespan="off"`."""

    HOP = frozenset({b"host", b"authorization", b"content-length", b"connection"})

    def __init__(self, target: str, token: str) -> None:
        self.target = target
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k not in self.HOP]
        headers.append((b"authorization", f"Bearer {self.token}".encode()))
        query = scope["query_string"].decode()
        url = self.target + scope["path"] + (f"?{query}" if query else "")
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=300)) as http:
            request = http.build_request(scope["method"], url, headers=headers, content=body)
            answer = await http.send(request, stream=True)
            try:
                kept = [
                    (name.lower(), value)
                    for name, value in answer.headers.raw
                    if name.lower() not in (b"content-length", b"transfer-encoding", b"connection")
                ]
                start = {"type": "http.response.start", "status": answer.status_code}
                await send({**start, "headers": kept})
                with contextlib.suppress(httpx.RemoteProtocolError):  # upstream cut it
                    async for chunk in answer.aiter_raw():
                        more = {"body": chunk, "more_body": True}
                        await send({"type": "http.response.body", **more})
                await send({"type": "http.response.body", "body": b""})
            finally:
                await answer.aclose()
