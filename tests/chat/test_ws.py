"""/ws: handshake, the protocol, resume, and every bad input with its exact reply."""

from __future__ import annotations

import asyncio
import json

import pytest

from netra.chat.ws.protocol import CLIENT_ADAPTER, parse_client
from netra.testing import eventually
from tests.support.chat import (
    Serve,
    Server,
    closed_with,
    connect,
    new_thread,
    recv,
    recv_until,
    service_token,
    until_expired,
)


async def test_handshake_selects_netra_v1_and_says_hello(server: Server) -> None:
    async with connect(server) as ws:
        assert ws.subprotocol == "netra.v1"
        hello = await recv(ws)
        assert hello["type"] == "hello"
        assert hello["payload"]["user_id"] == await server.users.id("alice")
        await ws.send(json.dumps({"type": "ping", "id": "p1"}))
        assert (await recv(ws))["type"] == "pong"


async def test_an_idle_socket_holds_no_writer_task(server: Server) -> None:
    """A socket's writer is a task only while it has frames to write (the memory of
    10,000 idle sockets, bench/ws_memory.py): later frames start another."""

    async def no_writer() -> bool | None:
        return not any(t.get_name() == "ws-writer" for t in asyncio.all_tasks()) or None

    async with connect(server) as ws:
        assert (await recv(ws))["type"] == "hello"
        await eventually(no_writer, 5, "a writer task outlived the hello")
        for k in range(3):
            await ws.send(json.dumps({"type": "ping", "id": f"p{k}"}))
            pong = await recv(ws)
            assert (pong["type"], pong["payload"]) == ("pong", {"id": f"p{k}"})
        await eventually(no_writer, 5, "a writer task outlived the pongs")


async def credential_for(server: Server, credential: str | None) -> str | None:
    """`service`: a real service token, asked for with the service secret; `tampered`:
    alice's real access token with one character of its signature changed."""
    if credential == "service":
        return await service_token(server)
    if credential == "tampered":
        signed, _, signature = (await server.users.token("alice")).rpartition(".")
        return f"{signed}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    return credential


@pytest.mark.parametrize(
    ("credential", "code", "reason"),
    [
        (None, 4401, "missing access token"),
        ("garbage", 4401, "a token has three dot-separated parts"),
        ("tampered", 4401, "the token's signature is invalid"),
        ("service", 4403, "service tokens cannot use the chat API"),
    ],
)
async def test_handshake_rejections_close_with_codes(
    server: Server, credential: str | None, code: int, reason: str
) -> None:
    token = await credential_for(server, credential)
    async with connect(server, None, token=token) as ws:
        assert await closed_with(ws) == (code, reason)


async def test_expired_token_is_refused_at_the_handshake(serve: Serve) -> None:
    srv = await serve(ACCESS_TOKEN_TTL="1")
    token = await srv.users.token("alice")
    await until_expired(token)
    async with connect(srv, token=token) as ws:
        assert await closed_with(ws) == (4401, "the token has expired")


async def test_foreign_origin_is_forbidden(server: Server) -> None:
    async with connect(server, origin="https://evil.example") as ws:
        assert await closed_with(ws) == (4403, "origin not allowed")
    own = server.url.replace("http://", "http://", 1)
    async with connect(server, origin=own) as ws:
        assert (await recv(ws))["type"] == "hello"


@pytest.mark.parametrize(
    ("frame", "code", "reason"),
    [
        ("{not json", 4400, "malformed JSON"),
        ("[1, 2]", 4400, "a message must be a JSON object"),
        ('{"type": "shout"}', 4400, "unknown message type 'shout'"),
        ('{"type": "subscribe"}', 4400, "subscribe: thread_id: Field required"),
        (
            '{"type": "subscribe", "thread_id": "t", "after_seq": "x"}',
            4400,
            "subscribe: after_seq: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        ('{"type": "ping", "pad": "' + "x" * 70000 + '"}', 4413, "frame larger than 65536 bytes"),
    ],
)
async def test_bad_frames_close_the_socket(
    server: Server, frame: str, code: int, reason: str
) -> None:
    async with connect(server) as ws:
        await recv(ws)
        await ws.send(frame)
        assert await closed_with(ws) == (code, reason)


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "ping", "id": "p1"}',
        ' {"type": "ping"}\n',
        '{"type": "ping", "id": "a", "id": "b"}',
        '{"type": "send_message", "thread_id": "t", "text": "\\ud83d\\ude00 h\\u00e9 \\"q\\"\\n", '
        '"client_msg_id": "m1", "model": "builtin", "interrupt": "true", "file_ids": ["f"], '
        '"parent_id": null}',
        '{"type": "subscribe", "thread_id": "t", "after_seq": 1.0}',
        '{"type": "subscribe", "thread_id": "t", "after_seq": "5"}',
        '{"type": "approve_tool", "run_id": "r", "call_id": "c", "approved": false}',
    ],
)
def test_a_good_frame_reads_as_the_standard_json_reader_reads_it(frame: str) -> None:
    """A good frame is read in one step by pydantic's JSON parser; it must come out as
    `json.loads` then validation read it (the way a bad frame is still read, to say
    precisely what is wrong with it: the cases above)."""
    assert parse_client(frame) == CLIENT_ADAPTER.validate_python(json.loads(frame))


async def test_semantic_errors_are_replies_naming_the_request(server: Server) -> None:
    tid = await new_thread(server)
    other = await new_thread(server, "bob")
    async with connect(server) as ws:
        await recv(ws)
        cases = [
            ({"type": "subscribe", "thread_id": other}, "not_found", "thread not found"),
            (
                {"type": "subscribe", "thread_id": tid, "after_seq": 5},
                "bad_seq",
                "after_seq must be between 0 and the thread's last seq 0",
            ),
            (
                {"type": "subscribe", "thread_id": tid, "after_seq": -1},
                "bad_seq",
                "after_seq must be between 0 and the thread's last seq 0",
            ),
            (
                {"type": "send_message", "thread_id": other, "text": "hi"},
                "not_found",
                "thread not found",
            ),
            (
                {"type": "send_message", "thread_id": tid, "text": "x" * 16001},
                "too_long",
                "message text is 16001 characters; limit 16000",
            ),
            ({"type": "cancel_run", "run_id": "nope"}, "not_found", "run not found"),
        ]
        for n, (request, code, message) in enumerate(cases):
            await ws.send(json.dumps({**request, "id": f"r{n}"}))
            answer = await recv(ws)
            assert answer["type"] == "error"
            payload = answer["payload"]
            assert (payload["request"], payload["id"]) == (request["type"], f"r{n}")
            assert (payload["code"], payload["message"]) == (code, message)


async def test_send_streams_events_and_resume_misses_nothing(server: Server) -> None:
    tid = await new_thread(server)
    async with connect(server) as ws:
        await recv(ws)
        await ws.send(
            json.dumps(
                {
                    "type": "send_message",
                    "thread_id": tid,
                    "text": "slow one two three four",
                    "client_msg_id": "c1",
                }
            )
        )
        ack = await recv(ws)
        assert (ack["type"], ack["payload"]["after_seq"]) == ("ack", 0)
        seen = [await recv(ws), await recv(ws), await recv(ws)]
    assert [m["seq"] for m in seen] == [1, 2, 3]
    # Reconnect mid-run and resume from the last seq seen.
    async with connect(server) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "thread_id": tid, "after_seq": 3}))
        assert (await recv(ws))["type"] == "ack"
        rest = await recv_until(ws, "agent_completed")
    seqs = [m["seq"] for m in seen + rest]
    assert seqs == list(range(1, len(seqs) + 1))
    text = "".join(m["payload"]["text"] for m in seen + rest if m["type"] == "message_delta")
    assert text == rest[-1]["payload"]["text"] == "you said: slow one two three four "


async def test_two_tabs_same_client_msg_id_make_one_run(server: Server) -> None:
    tid = await new_thread(server)
    request = {"type": "send_message", "thread_id": tid, "text": "hi", "client_msg_id": "same"}
    async with connect(server) as tab1, connect(server) as tab2:
        await recv(tab1)
        await recv(tab2)
        await asyncio.gather(tab1.send(json.dumps(request)), tab2.send(json.dumps(request)))
        acks = [await recv(tab1), await recv(tab2)]
        assert {a["run_id"] for a in acks} == {acks[0]["run_id"]}
        assert sorted(a["payload"]["created"] for a in acks) == [False, True]
        for tab in (tab1, tab2):
            events = await recv_until(tab, "agent_completed")
            assert [e["type"] for e in events].count("agent_started") == 1


async def test_cancel_finished_run_over_ws(server: Server) -> None:
    tid = await new_thread(server)
    async with connect(server) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "send_message", "thread_id": tid, "text": "hi"}))
        run_id = (await recv(ws))["run_id"]
        await recv_until(ws, "agent_completed")
        await ws.send(json.dumps({"type": "cancel_run", "run_id": run_id, "id": "c"}))
        answer = await recv(ws)
        assert answer["payload"]["code"] == "run_finished"
        assert answer["payload"]["message"] == "run already completed"


async def test_closing_the_socket_does_not_stop_the_run(server: Server) -> None:
    tid = await new_thread(server)
    async with connect(server) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "send_message", "thread_id": tid, "text": "slow a b c"}))
        await recv(ws)
    await asyncio.sleep(0.6)
    async with connect(server) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "subscribe", "thread_id": tid, "after_seq": 0}))
        await recv(ws)
        events = await recv_until(ws, "agent_completed")
        assert events[-1]["payload"]["text"] == "you said: slow a b c "


async def test_token_expiring_mid_connection_closes_4401(serve: Serve) -> None:
    srv = await serve(ACCESS_TOKEN_TTL="2")  # `exp` is whole seconds: it lives 1 to 2 s
    async with connect(srv) as ws:
        assert (await recv(ws))["type"] == "hello"
        assert await closed_with(ws) == (4401, "token expired")
