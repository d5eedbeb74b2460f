"""The SDK against a real server: ask, resume after the server drops the socket, and
refresh-then-resume when the access token expires mid-stream."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from netra.agents.events import AgentCompleted
from netra.client import NetraClient, NetraError, NotFound, RateLimited
from netra.testing import PASSWORD
from netra.testing.accounts import email
from tests.support.chat import Serve, Server


async def test_ask_streams_the_answer(server: Server) -> None:
    async with NetraClient(server.url, access_token=await server.users.token()) as netra:
        thread = await netra.create_thread("sdk")
        events = [event async for event in netra.ask(thread.id, "hello sdk")]
        assert events[0].type == "agent_started"
        final = events[-1].event
        assert isinstance(final, AgentCompleted)
        assert final.text == "you said: hello sdk "
        assert [t.id for t in await netra.list_threads()] == [thread.id]
        page = await netra.messages(thread.id)
        assert [m["role"] for m in page["items"]] == ["user", "assistant"]


async def test_errors_are_typed_from_the_servers_reason(server: Server) -> None:
    async with NetraClient(server.url, access_token=await server.users.token()) as netra:
        with pytest.raises(NotFound) as info:
            await netra.send("missing", "hi")
        assert (info.value.status, info.value.reason, info.value.message) == (
            404,
            "not_found",
            "thread not found",
        )
        assert str(info.value) == "thread not found"  # what `netra chat` prints


async def test_files_upload_attach_download_delete(server: Server) -> None:
    async with NetraClient(server.url, access_token=await server.users.token()) as netra:
        thread = await netra.create_thread("files")
        made = await netra.upload_file(thread.id, "notes.md", b"# Notes\n\nbuy rope\n")
        shown = (made["name"], made["content_type"], made["size"])
        assert shown == ("notes.md", "text/markdown", 18)
        assert [f["id"] for f in await netra.list_files(thread.id)] == [made["id"]]
        posted = await netra.send(thread.id, "read it", file_ids=[made["id"]])
        assert [a["id"] for a in posted["message"]["attachments"]] == [made["id"]]
        assert await netra.download_file(made["id"]) == b"# Notes\n\nbuy rope\n"
        await netra.delete_file(made["id"])
        with pytest.raises(NotFound):
            await netra.download_file(made["id"])


async def test_rate_limited_carries_retry_after(serve: Serve) -> None:
    srv = await serve(CHAT_RATE_LIMIT="1")
    async with NetraClient(srv.url, access_token=await srv.users.token()) as netra:
        thread = await netra.create_thread()
        await netra.send(thread.id, "one")
        with pytest.raises(RateLimited) as info:
            await netra.send(thread.id, "two")
        assert (info.value.status, info.value.reason) == (429, "rate_limited")
        assert info.value.retry_after is not None
        assert 1 <= info.value.retry_after <= 60
        assert isinstance(info.value, NetraError)


async def test_stream_resumes_after_the_server_drops_it(server: Server) -> None:
    async with NetraClient(server.url, access_token=await server.users.token()) as netra:
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


async def ws_closes(srv: Server, code: int) -> float:
    """How many sockets the server closed with `code`, from its /metrics."""
    async with httpx.AsyncClient(base_url=srv.url) as http:
        text = (await http.get("/metrics")).text
    found = re.search(rf'^netra_websocket_closes_total{{code="{code}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_expired_token_mid_stream_refreshes_and_resumes(serve: Serve) -> None:
    # Access tokens live 1 to 2 s (`exp` is whole seconds); the answer streams for 3 s.
    srv = await serve(RUN_TIMEOUT="30", ACCESS_TOKEN_TTL="2")
    async with NetraClient(srv.url) as netra:
        await netra.register(email("alice"), PASSWORD)
        first = await netra.sign_in(email("alice"), PASSWORD)
        thread = await netra.create_thread()
        words = " ".join(f"w{n}" for n in range(60))
        events = [e async for e in netra.ask(thread.id, f"slow {words}")]
        assert await ws_closes(srv, 4401) >= 1  # "token expired", mid-stream
        assert netra.tokens is not None
        assert netra.tokens.refresh_token not in (None, first.refresh_token)  # rotated
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[-1].type == "agent_completed"
        text = "".join(e.payload["text"] for e in events if e.type == "message_delta")
        assert text == events[-1].payload["text"] == f"you said: slow {words} "


async def test_sdk_is_usable_from_inside_a_running_loop(server: Server) -> None:
    async def one(n: int) -> str:
        async with NetraClient(server.url) as netra:
            await netra.register(email(f"u{n}"), PASSWORD)
            await netra.sign_in(email(f"u{n}"), PASSWORD)
            thread = await netra.create_thread()
            return [e async for e in netra.ask(thread.id, f"hi {n}")][-1].payload["text"]

    answers = await asyncio.gather(*(one(n) for n in range(5)))
    assert answers == [f"you said: hi {n} " for n in range(5)]
