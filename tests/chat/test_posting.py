"""Posting a message: the message, its run and the run's agent_started are one
transaction, checked against the owner, once per client_msg_id."""

from __future__ import annotations

import asyncio
import json

from tests.support.chat import Server, connect, count_rows, new_thread, recv, recv_until


async def test_agent_started_is_committed_with_the_message(server: Server) -> None:
    tid = await new_thread(server)
    backend = server.backend
    # No await between posting and reading: the run's task has not run yet, so the
    # event is in the log because the posting transaction wrote it.
    alice = await server.users.id("alice")
    posted = await backend.post_message(alice, tid, "hello", "c1")
    assert posted is not None
    assert posted.created
    assert [(e.seq, e.type) for e in posted.events] == [(1, "agent_started")]
    logged = await backend.events.read(tid, 0)
    assert [(e.seq, e.type, e.run_id) for e in logged[:1]] == [(1, "agent_started", posted.run.id)]
    assert logged[0].payload == {"provider": "scripted", "model": None}
    assert posted.after_seq == 0


async def test_a_repeated_client_msg_id_writes_nothing_new(server: Server) -> None:
    tid = await new_thread(server)
    async with connect(server) as ws:
        await recv(ws)
        request = {"type": "send_message", "thread_id": tid, "text": "hi", "client_msg_id": "x"}
        await ws.send(json.dumps(request))
        first = await recv(ws)
        await recv_until(ws, "agent_completed")
        before = await count_rows(server)
        await ws.send(json.dumps(request))
        again = await recv(ws)
    assert (again["run_id"], again["payload"]["created"]) == (first["run_id"], False)
    assert again["payload"]["after_seq"] == first["payload"]["after_seq"] == 0
    assert await count_rows(server) == before


async def test_another_users_thread_is_not_found_and_left_untouched(server: Server) -> None:
    tid = await new_thread(server, "bob")
    alice, bob = await server.users.id("alice"), await server.users.id("bob")
    before = await count_rows(server)
    assert await server.backend.post_message(alice, tid, "mine now", "c1") is None
    async with connect(server) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "send_message", "thread_id": tid, "text": "hi"}))
        answer = await recv(ws)
    assert (answer["type"], answer["payload"]["code"]) == ("error", "not_found")
    assert await count_rows(server) == before
    thread = await server.backend.threads.get(bob, tid)
    assert thread is not None
    assert thread.last_seq == 0


async def test_first_send_on_a_socket_follows_its_run_live(server: Server) -> None:
    """The sender follows from its ack's after_seq without a replay read, and still gets
    every later event once, in order; so does a second socket sending at the same time."""
    tid = await new_thread(server)
    async with connect(server) as one, connect(server) as two:
        await recv(one)
        await recv(two)
        # One run per thread: whichever comes second interrupts the first.
        send = {"type": "send_message", "thread_id": tid, "interrupt": True}
        await asyncio.gather(
            one.send(json.dumps({**send, "text": "a b"})),
            two.send(json.dumps({**send, "text": "c d"})),
        )
        seen = [await drain(one), await drain(two)]
    thread = await server.backend.threads.get(await server.users.id("alice"), tid)
    assert thread is not None
    for acks, seqs in seen:
        assert len(acks) == 1
        after = acks[0]["payload"]["after_seq"]
        assert seqs == list(range(after + 1, thread.last_seq + 1))


async def drain(ws: object) -> tuple[list[dict[str, object]], list[int]]:
    """Every frame until the socket has been quiet for a second: acks, and event seqs."""
    acks, seqs = [], []
    while True:
        try:
            frame = await recv(ws, timeout=1.0)
        except TimeoutError:
            return acks, seqs
        if frame["type"] == "ack":
            acks.append(frame)
        elif frame["seq"] is not None:
            seqs.append(int(frame["seq"]))
