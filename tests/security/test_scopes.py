"""Issue 15 item 1: API-key scopes are enforced.

On main `Principal.scopes` was read nowhere: a `chat:read` or `profile` key, or one with
`scopes: []`, created, posted, renamed, deleted and cancelled. Hostile cases: each of
those keys against every write route, the read routes, SSE, `/auth/me` and each socket
message; a key holding every scope against each credential-managing endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from netra.testing import PASSWORD, bearer
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
    settings = make_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'netra.db'}")
    srv = await start_server(*chat_app(settings))
    try:
        yield srv
    finally:
        await stop_server(srv)


async def key_with(srv: Server, scopes: list[str]) -> str:
    async with srv.http(ALICE) as client:
        created = await client.post(
            "/auth/api-keys", json={"name": "k", "scopes": scopes, "password": PASSWORD}
        )
    assert created.status_code == 201, created.text
    return str(created.json()["api_key"])


def insufficient(answer: httpx.Response, scope: str) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", scope="{scope}"'
    )
    assert answer.json()["detail"]["reason"] == "insufficient_scope"


WRITES = [
    ("POST", "/api/threads", {"title": "x"}),
    ("PATCH", "/api/threads/{tid}", {"title": "renamed"}),
    ("POST", "/api/threads/{tid}/messages", {"text": "hello"}),
    ("POST", "/api/runs/{rid}/cancel", None),
    ("POST", "/api/runs/{rid}/approvals/call-1", {"approved": True}),
    ("DELETE", "/api/threads/{tid}", None),
]
READS = [
    ("GET", "/api/threads", None),
    ("GET", "/api/threads/{tid}", None),
    ("GET", "/api/threads/{tid}/messages", None),
    ("GET", "/api/threads/{tid}/events", None),
    ("GET", "/api/runs/{rid}", None),
]


async def fixtures(srv: Server) -> dict[str, str]:
    tid = await new_thread(srv)
    async with srv.http(ALICE) as client:
        posted = await client.post(f"/api/threads/{tid}/messages", json={"text": "2 + 2"})
    return {"tid": tid, "rid": posted.json()["run_id"]}


@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param([], id="no-scopes"),
        pytest.param(["profile"], id="profile"),
        pytest.param(["chat:read"], id="chat-read"),
    ],
)
async def test_keys_without_chat_cannot_write(server: Server, scopes: list[str]) -> None:
    ids = await fixtures(server)
    key = await key_with(server, scopes)
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key)) as client:
        for method, path, body in WRITES:
            answer = await client.request(method, path.format(**ids), json=body)
            insufficient(answer, "chat")
        for method, path, body in READS:
            answer = await client.request(method, path.format(**ids), json=body)
            if "chat:read" in scopes:
                assert answer.status_code == 200, (path, answer.text)
            else:
                insufficient(answer, "chat:read")
    async with server.http(ALICE) as owner:  # nothing was changed by the refused writes
        thread = await owner.get(f"/api/threads/{ids['tid']}")
        assert thread.status_code == 200
        assert thread.json()["title"] == "t"
        assert len((await owner.get("/api/threads")).json()) == 1


async def test_a_chat_key_reads_and_writes_but_is_no_profile(server: Server) -> None:
    ids = await fixtures(server)
    key = await key_with(server, ["chat"])
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key)) as client:
        assert (await client.get(f"/api/threads/{ids['tid']}/events")).status_code == 200
        assert (await client.post("/api/threads", json={"title": "y"})).status_code == 201
        insufficient(await client.get("/auth/me"), "profile")
    profile = await key_with(server, ["profile"])
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(profile)) as client:
        assert (await client.get("/auth/me")).status_code == 200


async def test_sse_needs_chat_read(server: Server) -> None:
    ids = await fixtures(server)
    key = await key_with(server, ["profile"])
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key)) as client:
        insufficient(await client.get(f"/api/threads/{ids['tid']}/stream"), "chat:read")


async def test_access_tokens_carry_every_scope(server: Server) -> None:
    ids = await fixtures(server)
    async with server.http(ALICE) as client:
        assert (await client.get("/auth/me")).status_code == 200
        assert (await client.get(f"/api/threads/{ids['tid']}/events")).status_code == 200
        renamed = await client.patch(f"/api/threads/{ids['tid']}", json={"title": "ok"})
        assert renamed.status_code == 200


async def test_socket_messages_need_their_scope_and_the_socket_stays_open(
    server: Server,
) -> None:
    ids = await fixtures(server)
    key = await key_with(server, ["chat:read"])
    async with connect(server, token=key) as ws:
        await recv_until(ws, "hello")
        await ws.send(
            json.dumps({"type": "send_message", "id": "m1", "thread_id": ids["tid"], "text": "hi"})
        )
        [refused] = await recv_until(ws, "error")
        assert refused["payload"]["code"] == "insufficient_scope"
        assert refused["payload"]["scope"] == "chat"
        await ws.send(json.dumps({"type": "cancel_run", "id": "c1", "run_id": ids["rid"]}))
        refused = (await recv_until(ws, "error"))[-1]
        assert refused["payload"]["code"] == "insufficient_scope"
        await ws.send(json.dumps({"type": "subscribe", "id": "s1", "thread_id": ids["tid"]}))
        acked = await recv_until(ws, "ack")
        assert acked[-1]["payload"]["request"] == "subscribe"
        await ws.send(json.dumps({"type": "ping", "id": "p1"}))
        assert (await recv_until(ws, "pong"))[-1]["type"] == "pong"  # still open
    profile = await key_with(server, ["profile"])
    async with connect(server, token=profile) as ws:
        await recv_until(ws, "hello")
        await ws.send(json.dumps({"type": "subscribe", "id": "s1", "thread_id": ids["tid"]}))
        refused = (await recv_until(ws, "error"))[-1]
        assert refused["payload"]["code"] == "insufficient_scope"
        assert refused["payload"]["scope"] == "chat:read"


CREDENTIAL_ENDPOINTS = [
    ("POST", "/auth/api-keys", {"name": "x", "scopes": ["chat"], "password": PASSWORD}),
    ("GET", "/auth/api-keys", None),
    ("POST", "/auth/password", {"current_password": PASSWORD, "new_password": "x y z w v u 9"}),
    ("GET", "/auth/sessions", None),
    ("DELETE", "/auth/sessions/some-session", None),
    ("POST", "/auth/logout", None),
    ("POST", "/auth/logout-all", None),
    ("GET", "/auth/oidc/identities", None),
]


async def test_an_api_key_never_manages_credentials_whatever_its_scopes(server: Server) -> None:
    key = await key_with(server, ["chat", "chat:read", "profile"])
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key)) as client:
        for method, path, body in CREDENTIAL_ENDPOINTS:
            answer = await client.request(method, path, json=body)
            assert answer.status_code in (401, 403), (path, answer.status_code, answer.text)
        assert (await client.get("/auth/me")).status_code == 200  # the key itself works
