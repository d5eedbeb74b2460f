"""The real path end to end: the embedded app (auth + backend), tokens minted by the auth
service, the builtin agent, driven through the SDK and a raw socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from netra.client import NetraClient
from netra.embedded import create_app
from tests.support.apps import SettingsFactory
from tests.support.chat import Server, closed_with, connect, start_server, stop_server

PASSWORD = "correct horse battery"


@pytest.fixture
async def embedded(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Server]:
    srv = await start_server(create_app(make_settings(**database_env)))
    try:
        yield srv
    finally:
        await stop_server(srv)


async def test_sign_in_refresh_and_ask_the_builtin_agent(embedded: Server) -> None:
    async with httpx.AsyncClient(base_url=embedded.url) as http:
        registered = await http.post(
            "/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
    async with NetraClient(embedded.url) as netra:
        first = await netra.sign_in("ada@example.com", PASSWORD)
        second = await netra.refresh()
        assert second.access_token != first.access_token
        thread = await netra.create_thread("real")
        events = [e async for e in netra.ask(thread.id, "What is 12 * 7?")]
        assert events[0].type == "agent_started"
        assert events[0].payload["provider"] == "builtin"
        assert events[-1].type == "agent_completed", events[-1]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        deltas = "".join(e.payload["text"] for e in events if e.type == "message_delta")
        assert deltas == events[-1].payload["text"]


async def test_a_forged_token_is_refused_by_the_real_verifier(embedded: Server) -> None:
    async with connect(embedded, token="eyJhbGciOiJub25lIn0.e30.") as ws:
        code, reason = await closed_with(ws)
        assert code == 4401
        assert reason
