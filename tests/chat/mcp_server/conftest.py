"""Fixtures for Netra's MCP server: the chat app on SQLite served on a free port (the
tools are the REST routes' backend methods, tested on both databases there)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.apps import SettingsFactory
from tests.support.chat import Server, chat_app, start_server, stop_server
from tests.support.mcp_server import ServeMcp


@pytest.fixture
async def serve_mcp(make_settings: SettingsFactory, tmp_path: Path) -> AsyncIterator[ServeMcp]:
    """`await serve_mcp(**ENV)`: the chat app with these settings, stopped after the test."""
    started: list[Server] = []

    async def start(**env: str) -> Server:
        database = f"sqlite:///{tmp_path / 'netra.db'}"
        settings = make_settings(DATABASE_URL=database, RUN_TIMEOUT="5", **env)
        started.append(await start_server(*chat_app(settings)))
        return started[-1]

    yield start
    for srv in started:
        await stop_server(srv)


@pytest.fixture
async def server(serve_mcp: ServeMcp) -> Server:
    return await serve_mcp()
