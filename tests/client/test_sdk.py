"""The SDK against a real server: ask, resume after the server drops the socket, and
refresh-then-resume when the access token expires mid-stream."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import APIRouter

from netra.agents.events import AgentCompleted
from netra.client import NetraClient, NetraError
from tests.chat.conftest import Serve, Server


async def test_ask_streams_the_answer(server: Server) -> None:
    async with NetraClient(server.url, access_token="user.alice") as netra:
        thread = await netra.create_thread("sdk")
        events = [event async for event in netra.ask(thread.id, "hello sdk")]
        assert events[0].type == "agent_started"
        final = events[-1].event
        assert isinstance(final, AgentCompleted)
        assert final.text == "you said: hello sdk "
        assert [t.id for t in await netra.list_threads()] == [thread.id]
        page = await netra.messages(thread.id)
        assert [m["role"] for m in page["items"]] == ["user", "assistant"]


async def test_errors_carry_the_servers_status_and_detail(server: Server) -> None:
    async with NetraClient(server.url, access_token="user.alice") as netra:
        with pytest.raises(NetraError) as info:
            await netra.send("missing", "hi")
        assert (info.value.status, info.value.detail) == (404, "thread missing not found")


async def test_stream_resumes_after_the_server_drops_it(server: Server) -> None:
    async with NetraClient(server.url, access_token="user.alice") as netra:
        thread = await netra.create_thread()
        words = " ".join(f"w{n}" for n in range(20))
        posted = await netra.send(thread.id, f"slow {words}")
        stream = netra.stream(thread.id, posted["after_seq"], posted["run_id"])
        seen = []
        async for event in stream:
            seen.append(event)
            if len(seen) == 5:
                for outbox in list(server.backend.sockets):
                    outbox.fail(1012, "server restarting; reconnect and resume")
        assert stream.reconnects >= 1
        assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
        text = "".join(e.payload["text"] for e in seen if e.type == "message_delta")
        assert text == seen[-1].payload["text"]


def fake_auth() -> APIRouter:
    """Stands in for the auth service's /auth/login and /auth/refresh (issue 4)."""
    router = APIRouter()

    @router.post("/auth/login")
    async def login() -> dict[str, str]:
        return {"access_token": "user.alice.800", "refresh_token": "r1", "token_type": "bearer"}

    @router.post("/auth/refresh")
    async def refresh() -> dict[str, str]:
        return {"access_token": "user.alice", "refresh_token": "r2", "token_type": "bearer"}

    return router


async def test_expired_token_mid_stream_refreshes_and_resumes(serve: Serve) -> None:
    srv = await serve(RUN_TIMEOUT="30")
    srv.app.include_router(fake_auth())
    async with NetraClient(srv.url) as netra:
        await netra.sign_in("alice@example.com", "pw")
        thread = await netra.create_thread()
        words = " ".join(f"w{n}" for n in range(40))
        events = [e async for e in netra.ask(thread.id, f"slow {words}")]
        assert netra.tokens is not None
        assert netra.tokens.refresh_token == "r2"
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[-1].type == "agent_completed"


async def test_sdk_is_usable_from_inside_a_running_loop(server: Server) -> None:
    async def one(n: int) -> str:
        async with NetraClient(server.url, access_token=f"user.u{n}") as netra:
            thread = await netra.create_thread()
            return [e async for e in netra.ask(thread.id, f"hi {n}")][-1].payload["text"]

    answers = await asyncio.gather(*(one(n) for n in range(5)))
    assert answers == [f"you said: hi {n} " for n in range(5)]
