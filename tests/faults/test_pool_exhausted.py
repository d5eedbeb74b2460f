"""Every pooled database connection busy past DB_POOL_TIMEOUT: a request is answered 503
`overloaded` (a socket gets an `error` reply and stays open), never a 500, and the
message sent again with its client_msg_id is stored once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.apps import SettingsFactory
from tests.support.chat import (
    Server,
    chat_app,
    connect,
    new_thread,
    recv,
    recv_until,
    start_server,
    stop_server,
)
from tests.support.databases import create_pg_database, drop_pg_database


@pytest.fixture
async def small_pool(make_settings: SettingsFactory) -> AsyncIterator[Server]:
    database = await create_pg_database()
    settings = make_settings(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{database}",
        DB_POOL_SIZE="1",  # one connection, no overflow
        DB_POOL_TIMEOUT="0.3",
    )
    srv = await start_server(*chat_app(settings))
    try:
        yield srv
    finally:
        await stop_server(srv)
        await drop_pg_database(database)


@contextlib.asynccontextmanager
async def every_connection_held(srv: Server) -> AsyncIterator[None]:
    engine = srv.backend.runtime.engine
    held: list[AsyncConnection] = []
    try:
        held.append(await engine.connect())
        yield
    finally:
        for connection in held:
            await connection.close()


async def test_a_busy_pool_answers_overloaded_and_loses_nothing(small_pool: Server) -> None:
    srv = small_pool
    tid = await new_thread(srv)
    await srv.users.token("alice")  # signed in before the pool is taken
    send = {"type": "send_message", "thread_id": tid, "text": "hello", "client_msg_id": "m1"}
    async with connect(srv) as ws, srv.http("alice") as client:
        await recv(ws)  # hello
        async with every_connection_held(srv):
            refused = await client.post("/api/threads", json={"title": "busy"})
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["detail"]["reason"] == "overloaded"
            await ws.send(json.dumps({**send, "id": "s1"}))
            error = await recv(ws)
            assert error["type"] == "error"
            assert (error["payload"]["code"], error["payload"]["retry_after"]) == (
                "overloaded",
                1.0,
            )
            assert error["payload"]["id"] == "s1"
        # The socket is still open: the same message again is stored, once.
        await ws.send(json.dumps({**send, "id": "s2"}))
        [ack, *_] = await recv_until(ws, "agent_completed")
        assert (ack["type"], ack["payload"]["created"]) == ("ack", True)
        messages = (await client.get(f"/api/threads/{tid}/messages")).json()["items"]
    assert [m["content"] for m in messages] == ["hello", messages[1]["content"]]
    assert [m["role"] for m in messages] == ["user", "assistant"]
