"""One run per thread at a time: a message while the thread's run is going is refused
with `run_active` naming the run, unless it asks to interrupt (the run is stopped and
recorded first, so the runs' events never interleave)."""

from __future__ import annotations

import json

from tests.support.chat import Server, connect, new_thread, recv, recv_until, wait_run


async def test_a_second_message_is_refused_while_the_run_is_going(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        url = f"/api/threads/{tid}/messages"
        first = (await client.post(url, json={"text": "hang", "client_msg_id": "h1"})).json()
        run_id = first["run_id"]
        refused = await client.post(url, json={"text": "and another"})
        assert refused.status_code == 409
        assert refused.json() == {
            "detail": {
                "reason": "run_active",
                "message": f"run {run_id} is still answering in this thread; wait for "
                "it, cancel it, or send with interrupt: true",
            }
        }
        # The same message again is its retry, not a second message: the first answer.
        again = await client.post(url, json={"text": "hang", "client_msg_id": "h1"})
        assert (again.status_code, again.json()["run_id"]) == (200, run_id)
        messages = (await client.get(f"/api/threads/{tid}/messages")).json()["items"]
        assert [m["content"] for m in messages] == ["hang"]  # nothing stored for the refusal

    async with connect(server) as ws:
        await recv(ws)
        frame = {"type": "send_message", "id": "w1", "thread_id": tid, "text": "hello"}
        await ws.send(json.dumps(frame))
        [*_, error] = await recv_until(ws, "error")
        assert error["payload"]["code"] == "run_active"
        assert error["payload"]["run_id"] == run_id
        assert error["payload"]["id"] == "w1"
    assert (await wait_run(server, "alice", run_id))["status"] == "failed"  # RUN_TIMEOUT
    async with server.http("alice") as client:
        after = await client.post(f"/api/threads/{tid}/messages", json={"text": "now"})
        assert after.status_code == 202


async def test_interrupt_stops_the_run_first_and_events_do_not_interleave(
    server: Server,
) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        url = f"/api/threads/{tid}/messages"
        first = (await client.post(url, json={"text": "hang"})).json()
        second = await client.post(url, json={"text": "instead", "interrupt": True})
        assert second.status_code == 202, second.text
        ended = await wait_run(server, "alice", first["run_id"])
        assert (ended["status"], ended["error"]) == ("cancelled", "interrupted by a newer message")
        done = await wait_run(server, "alice", second.json()["run_id"])
        assert done["status"] == "completed"
        events = (await client.get(f"/api/threads/{tid}/events")).json()["items"]
    runs = [e["run_id"] for e in events]
    boundary = runs.index(second.json()["run_id"])
    assert set(runs[:boundary]) == {first["run_id"]}
    assert set(runs[boundary:]) == {second.json()["run_id"]}
    assert events[boundary - 1]["type"] == "agent_error"
    assert events[boundary - 1]["payload"] == {
        "reason": "interrupted by a newer message",
        "code": "cancelled",
    }
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


async def test_interrupt_with_nothing_running_just_sends(server: Server) -> None:
    tid = await new_thread(server)
    async with connect(server) as ws:
        await recv(ws)
        frame = {"type": "send_message", "thread_id": tid, "text": "hi", "interrupt": True}
        await ws.send(json.dumps(frame))
        events = await recv_until(ws, "agent_completed")
        assert events[0]["type"] == "ack"
        assert [e["type"] for e in events].count("agent_started") == 1
