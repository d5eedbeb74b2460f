"""Limits: floods, slow readers, unauthenticated sockets, the SSE alternative."""

from __future__ import annotations

import asyncio
import json
import socket

from netra.testing import eventually
from tests.support.chat import Serve, Server, closed_with, connect, new_thread, recv, recv_until


async def test_message_flood_gets_rate_limited_with_a_clear_error(serve: Serve) -> None:
    srv = await serve(CHAT_RATE_LIMIT="2")
    tid = await new_thread(srv)
    async with connect(srv) as ws:
        await recv(ws)
        for n in range(3):
            request = {
                "type": "send_message",
                "thread_id": tid,
                "text": f"m{n}",
                "id": str(n),
                "interrupt": True,  # one run per thread: each stops the one before
            }
            await ws.send(json.dumps(request))
        replies = [m for m in await recv_until(ws, "error") if m["type"] in ("ack", "error")]
        assert [r["type"] for r in replies] == ["ack", "ack", "error"]
        payload = replies[-1]["payload"]
        assert (payload["code"], payload["id"]) == ("rate_limited", "2")
        assert payload["message"].startswith("too many messages: at most 2 per minute; retry in")
    async with srv.http("alice") as client:
        rest = await client.post(f"/api/threads/{tid}/messages", json={"text": "again"})
        assert rest.status_code == 429
        assert "Retry-After" in rest.headers


async def test_frame_flood_closes_4429(serve: Serve) -> None:
    srv = await serve(WS_FRAME_RATE_LIMIT="20")
    async with connect(srv) as ws:
        await recv(ws)
        for _ in range(25):
            await ws.send('{"type": "ping"}')
        assert await closed_with(ws) == (4429, "more than 20 frames in 10s")


async def test_slow_reader_is_closed_1013_then_resumes(serve: Serve) -> None:
    srv = await serve(WS_QUEUE_SIZE="8", RUN_TIMEOUT="30")
    tid = await new_thread(srv)
    sock = socket.create_connection(("127.0.0.1", int(srv.url.rsplit(":", 1)[1])))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    async with connect(srv, sock=sock, max_queue=1) as slow:
        await recv(slow)
        request = {"type": "send_message", "thread_id": tid, "text": "bulk 6000"}
        await slow.send(json.dumps(request))
        await asyncio.sleep(3)  # not reading: the server's queue for this socket fills up
        reason = "too slow: outgoing queue full, reconnect and resume"
        assert await closed_with(slow) == (1013, reason)
    async with connect(srv) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "thread_id": tid, "after_seq": 0}))
        await recv(ws)
        events = await recv_until(ws, "agent_completed", timeout=30)
    text = "".join(e["payload"]["text"] for e in events if e["type"] == "message_delta")
    assert text == "x" * 6_000_000 + events[-1]["payload"]["text"]


async def test_sockets_beyond_the_pending_cap_are_refused_1013(serve: Serve) -> None:
    srv = await serve(WS_MAX_CONNECTIONS="2")
    async with connect(srv) as one, connect(srv) as two:
        await recv(one)
        await recv(two)
        async with connect(srv) as three:
            assert await closed_with(three) == (1013, "too many connections; retry later")


async def test_sse_stream_replays_and_honours_last_event_id(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        posted = await client.post(f"/api/threads/{tid}/messages", json={"text": "hi there"})
        assert posted.status_code == 202

        async def two_events() -> bool | None:
            return (await client.get(f"/api/threads/{tid}")).json()["last_seq"] >= 2 or None

        await eventually(two_events, 5, "the run never logged two events", 0.01)
        ids: list[int] = []
        headers = {"Last-Event-ID": "2"}
        async with client.stream("GET", f"/api/threads/{tid}/stream", headers=headers) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            async for line in resp.aiter_lines():
                if line.startswith("id: "):
                    ids.append(int(line[4:]))
                if line == "event: agent_completed":
                    break
        assert ids == list(range(3, ids[-1] + 1))
        bad = await client.get(f"/api/threads/{tid}/stream", headers={"Last-Event-ID": "x"})
        assert (bad.status_code, bad.json()["detail"]) == (
            400,
            {"reason": "bad_seq", "message": "Last-Event-ID 'x' is not a seq"},
        )
        # '²' passes str.isdigit() but not int(); 5,000 digits pass isdigit() but not int().
        for hostile in (b"\xb2", b"9" * 5000):
            odd = await client.get(f"/api/threads/{tid}/stream", headers={"Last-Event-ID": hostile})
            assert odd.status_code == 400, odd.text
            assert odd.json()["detail"]["message"].endswith("is not a seq")


async def test_heartbeats_and_silent_clients_are_closed_1001(serve: Serve) -> None:
    srv = await serve(WS_HEARTBEAT_INTERVAL="0.2")
    async with connect(srv) as ws:
        assert (await recv(ws))["type"] == "hello"
        assert (await recv(ws))["type"] == "heartbeat"
        assert await closed_with(ws) == (1001, "heartbeat timeout")
    async with connect(srv) as ws:
        await recv(ws)
        for _ in range(8):  # a client that answers stays connected
            message = await recv(ws)
            assert message["type"] == "heartbeat"
            await ws.send('{"type": "ping"}')
            assert (await recv(ws))["type"] == "pong"
