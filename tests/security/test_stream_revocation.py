"""Issue 15 items 3 and 8: revocation reaches open streams; per-user caps on streams.

On main a `/ws` socket closed only at its token's `exp` (an API-key socket never) and an
SSE stream never checked again. Hostile cases, each with a channel left open: logout,
revoking the session from another device, password change, API key revoked, the account
disabled by an admin; SSE after logout and after key revocation; the same across a
separate auth service and backend (revocations arrive by polling). Caps: a user past
WS_MAX_PER_USER by sockets and by SSE streams, another user meanwhile."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import update

from netra.auth.component import AuthComponent
from netra.auth.models import User
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Service
from netra.testing import PASSWORD, ScriptedAgent, bearer
from tests.support.apps import SettingsFactory
from tests.support.chat import (
    ALICE,
    Server,
    chat_app,
    connect,
    new_thread,
    recv_until,
    start_server,
    stop_server,
)


@pytest.fixture
async def server(make_settings: SettingsFactory, tmp_path: Path) -> AsyncIterator[Server]:
    settings = make_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'netra.db'}", WS_MAX_PER_USER="2")
    srv = await start_server(*chat_app(settings))
    try:
        yield srv
    finally:
        await stop_server(srv)


async def closed_with(ws: Any, timeout: float) -> tuple[int, str]:
    """Wait (at most `timeout`) for the server to close the socket."""
    deadline = time.monotonic() + timeout
    try:
        while True:  # skip hello and heartbeats until the close (or the timeout)
            await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    except websockets.ConnectionClosed as closed:
        frame = closed.rcvd
    if frame is None:
        raise AssertionError("the connection dropped without a close frame")
    return frame.code, frame.reason


async def api_key(srv: Server, user: str = ALICE) -> tuple[str, str]:
    async with srv.http(user) as client:
        created = await client.post(
            "/auth/api-keys", json={"name": "k", "scopes": ["chat"], "password": PASSWORD}
        )
    body = created.json()
    return str(body["api_key"]), str(body["id"])


async def test_logout_closes_the_sessions_socket(server: Server) -> None:
    tokens = await server.users.sign_in(ALICE)
    async with connect(server) as ws:
        await recv_until(ws, "hello")
        async with server.http(ALICE) as client:
            assert (await client.post("/auth/logout")).status_code == 200
        assert await closed_with(ws, 3) == (4401, "session revoked")
    assert tokens  # the socket above used this session


async def test_revoking_a_session_from_another_device_closes_its_socket(
    server: Server,
) -> None:
    first = await server.users.sign_in(ALICE)
    async with httpx.AsyncClient(base_url=server.url) as other:
        second = await other.post(
            "/auth/login", json={"email": "alice@example.com", "password": PASSWORD}
        )
        async with connect(server) as ws:
            await recv_until(ws, "hello")
            revoked = await other.delete(
                f"/auth/sessions/{first['session_id']}",
                headers=bearer(second.json()["access_token"]),
            )
            assert revoked.status_code == 200, revoked.text
            assert await closed_with(ws, 3) == (4401, "session revoked")


async def test_a_password_change_closes_the_other_sessions_sockets(server: Server) -> None:
    await server.users.sign_in(ALICE)
    async with httpx.AsyncClient(base_url=server.url) as other:
        second = await other.post(
            "/auth/login", json={"email": "alice@example.com", "password": PASSWORD}
        )
        async with connect(server) as ws:
            await recv_until(ws, "hello")
            changed = await other.post(
                "/auth/password",
                json={"current_password": PASSWORD, "new_password": "another good passphrase 3"},
                headers=bearer(second.json()["access_token"]),
            )
            assert changed.status_code == 200, changed.text
            assert await closed_with(ws, 3) == (4401, "session revoked")


async def test_revoking_an_api_key_closes_its_socket(server: Server) -> None:
    key, key_id = await api_key(server)
    async with connect(server, token=key) as ws:
        await recv_until(ws, "hello")
        async with server.http(ALICE) as client:
            assert (await client.delete(f"/auth/api-keys/{key_id}")).status_code == 200
        assert await closed_with(ws, 3) == (4401, "api key revoked")


async def test_disabling_the_account_closes_its_sockets(server: Server) -> None:
    await server.users.sign_in("admin")
    admin_id = await server.users.id("admin")
    assert server.app is not None
    async with server.app.state.runtime.db() as db, db.begin():
        await db.execute(update(User).where(User.id == admin_id).values(role="admin"))
    async with httpx.AsyncClient(base_url=server.url) as http:  # a fresh token: admin role
        login = await http.post(
            "/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
        )
        as_admin = bearer(login.json()["access_token"])
        alice = await server.users.id(ALICE)
        key, _ = await api_key(server)
        async with connect(server) as session_ws, connect(server, token=key) as key_ws:
            await recv_until(session_ws, "hello")
            await recv_until(key_ws, "hello")
            disabled = await http.post(f"/auth/admin/users/{alice}/disable", headers=as_admin)
            assert disabled.status_code == 200, disabled.text
            assert await closed_with(session_ws, 3) == (4401, "account disabled")
            assert await closed_with(key_ws, 3) == (4401, "account disabled")


async def last_sse_event(client: httpx.AsyncClient, url: str, revoke: Any) -> dict[str, Any]:
    """Open the stream, revoke once it is open, and return its final `error` event."""
    async with client.stream("GET", url) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()  # one iterator for the whole stream
        assert (await asyncio.wait_for(anext(lines), 3)).startswith("retry:")
        await revoke()
        event = None
        async with asyncio.timeout(3):
            async for line in lines:
                if line == "event: error":
                    event = "error"
                elif event == "error" and line.startswith("data: "):
                    return dict(json.loads(line[6:]))
    raise AssertionError("the stream ended without an error event")


async def test_logout_ends_an_sse_stream_with_a_final_error(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http(ALICE) as client:

        async def logout() -> None:
            async with server.http(ALICE) as other:
                await other.post("/auth/logout")

        event = await last_sse_event(client, f"/api/threads/{tid}/stream", logout)
    assert event == {"code": "unauthorized", "reason": "session revoked"}


async def test_revoking_an_api_key_ends_its_sse_stream(server: Server) -> None:
    tid = await new_thread(server)
    key, key_id = await api_key(server)
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key)) as client:

        async def revoke() -> None:
            async with server.http(ALICE) as owner:
                await owner.delete(f"/auth/api-keys/{key_id}")

        event = await last_sse_event(client, f"/api/threads/{tid}/stream", revoke)
    assert event == {"code": "unauthorized", "reason": "api key revoked"}


async def test_an_sse_stream_ends_when_its_token_expires(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """Like a socket (closed 4401 `token expired`), an SSE stream does not outlive the
    access token it was opened with: on main it went on for good."""
    settings = make_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'netra.db'}", ACCESS_TOKEN_TTL="2"
    )
    srv = await start_server(*chat_app(settings))
    try:
        tid = await new_thread(srv)
        async with srv.http(ALICE) as client:

            async def wait_for_expiry() -> None:  # `exp` is whole seconds: 1 to 2 s
                return None

            event = await last_sse_event(client, f"/api/threads/{tid}/stream", wait_for_expiry)
        assert event == {"code": "unauthorized", "reason": "token expired"}
    finally:
        await stop_server(srv)


async def test_revocation_reaches_a_backend_deployed_apart_within_the_poll_bound(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """`netra serve auth` + `netra serve backend` in one test process: two apps, two
    servers, the backend verifying over HTTP and polling revocations every second."""
    auth_settings = make_settings([Service.AUTH], DATABASE_URL=f"sqlite:///{tmp_path / 'auth.db'}")
    auth = await start_server(build_app(auth_settings, [AuthComponent()]))
    try:
        backend_settings = make_settings(
            [Service.BACKEND],
            DATABASE_URL=f"sqlite:///{tmp_path / 'chat.db'}",
            AUTH_SERVICE_URL=auth.url,
            REVOCATION_POLL_INTERVAL="1",
        )
        chat = ChatComponent(agent_factory=lambda _: ScriptedAgent())
        backend = await start_server(build_app(backend_settings, [chat]), chat)
        backend.users = auth.users
        try:
            async with connect(backend) as ws:
                await recv_until(ws, "hello")
                async with auth.http(ALICE) as client:
                    assert (await client.post("/auth/logout")).status_code == 200
                started = time.monotonic()
                code, reason = await closed_with(ws, 1 + 2)  # interval + 2 s
                elapsed = time.monotonic() - started
            assert (code, reason) == (4401, "session revoked")
            print(f"closed {elapsed:.2f}s after the logout (bound: 3 s)")
        finally:
            await stop_server(backend)
    finally:
        await stop_server(auth)


async def test_a_user_past_the_stream_cap_is_refused_and_others_are_not(
    server: Server,
) -> None:
    tid = await new_thread(server)
    async with connect(server) as first, connect(server) as second:
        await recv_until(first, "hello")
        await recv_until(second, "hello")
        async with connect(server) as third:
            code, reason = await closed_with(third, 3)
        assert code == 1013
        assert "WS_MAX_PER_USER" in reason
        async with server.http(ALICE) as client:
            sse = await client.get(f"/api/threads/{tid}/stream")
        assert sse.status_code == 429
        assert sse.json()["detail"]["reason"] == "too_many_streams"
        async with connect(server, "bob") as bob:  # another user is not affected
            assert (await recv_until(bob, "hello"))[-1]["type"] == "hello"
        await first.send(json.dumps({"type": "ping"}))  # the first two still work
        assert (await recv_until(first, "pong"))[-1]["type"] == "pong"
    async with connect(server) as again:  # closing frees the places
        assert (await recv_until(again, "hello"))[-1]["type"] == "hello"


async def test_sse_streams_count_toward_the_cap(server: Server) -> None:
    tid = await new_thread(server)
    url = f"/api/threads/{tid}/stream"
    async with (
        server.http(ALICE) as client,
        client.stream("GET", url) as one,
        client.stream("GET", url) as two,
    ):
        # Keep each line iterator: dropping one closes its response, and the stream.
        lines = [one.aiter_lines(), two.aiter_lines()]
        for line in lines:
            assert (await asyncio.wait_for(anext(line), 3)).startswith("retry:")
        async with connect(server) as ws:
            code, _ = await closed_with(ws, 3)
        assert code == 1013


async def test_api_key_streams_are_verified_again_every_cache_ttl(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """Apart, with the revocation poll far away (an hour): the key's socket still ends,
    because the backend asks the auth service again every API_KEY_CACHE_TTL."""
    auth_settings = make_settings([Service.AUTH], DATABASE_URL=f"sqlite:///{tmp_path / 'auth.db'}")
    auth = await start_server(build_app(auth_settings, [AuthComponent()]))
    try:
        backend_settings = make_settings(
            [Service.BACKEND],
            DATABASE_URL=f"sqlite:///{tmp_path / 'chat.db'}",
            AUTH_SERVICE_URL=auth.url,
            REVOCATION_POLL_INTERVAL="3600",
            API_KEY_CACHE_TTL="1",
        )
        chat = ChatComponent(agent_factory=lambda _: ScriptedAgent())
        backend = await start_server(build_app(backend_settings, [chat]), chat)
        backend.users = auth.users
        try:
            key, key_id = await api_key(auth)
            async with connect(backend, token=key) as ws:
                await recv_until(ws, "hello")
                async with auth.http(ALICE) as client:
                    assert (await client.delete(f"/auth/api-keys/{key_id}")).status_code == 200
                assert await closed_with(ws, 1 + 2 + 1) == (4401, "api key revoked")
        finally:
            await stop_server(backend)
    finally:
        await stop_server(auth)
