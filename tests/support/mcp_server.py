"""Netra's own MCP server under test: the SDK's client (streamable HTTP) at a chat
backend's `/mcp`, as an IDE or another agent connects, and API keys to connect with."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

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
