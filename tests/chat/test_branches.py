"""Edit, regenerate and branch, on SQLite and PostgreSQL: messages form a tree, the thread
shows one branch, the agent sees only the branch it answers, and the event log stays
append-only and gap-free.

Hostile cases: editing (posting with `parent_id`) a message that does not exist, is in
another thread or is another user's; regenerating a question, a message that does not
exist, another user's answer, or while the thread's run goes; showing a branch through
another thread's or another user's message."""

from __future__ import annotations

import json
from typing import Any

from tests.support.chat import Server, connect, new_thread, recv_until, wait_run


async def post(
    srv: Server, thread_id: str, text: str, user: str = "alice", **body: Any
) -> dict[str, Any]:
    """Post `text` and wait for its run to complete; the POST's answer."""
    async with srv.http(user) as client:
        response = await client.post(
            f"/api/threads/{thread_id}/messages", json={"text": text, **body}
        )
        assert response.status_code == 202, response.text
    run = await wait_run(srv, user, response.json()["run_id"])
    assert run["status"] == "completed", run
    return dict(response.json())


async def shown(srv: Server, thread_id: str, user: str = "alice", **params: Any) -> list[Any]:
    async with srv.http(user) as client:
        response = await client.get(f"/api/threads/{thread_id}/messages", params=params)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages]


async def two_turns(srv: Server, user: str = "alice") -> tuple[str, list[dict[str, Any]]]:
    thread = await new_thread(srv, user)
    await post(srv, thread, "one", user)
    await post(srv, thread, "two", user)
    return thread, await shown(srv, thread, user)


async def earlier_turns(srv: Server, thread_id: str, run_id: str) -> str:
    """What the scripted agent said it saw: `N earlier turns` (its agent_thinking)."""
    events = await srv.backend.events.read(thread_id, 0)
    (thinking,) = [e for e in events if e.run_id == run_id and e.type == "agent_thinking"]
    return str(thinking.payload["text"])


async def test_messages_carry_their_parent_and_siblings(server: Server) -> None:
    thread, path = await two_turns(server)
    assert texts(path) == ["one", "you said: one ", "two", "you said: two "]
    assert [m["parent_id"] for m in path] == [None, *[m["id"] for m in path[:-1]]]
    assert [m["sibling_ids"] for m in path] == [[m["id"]] for m in path]
    async with server.http("alice") as alice:
        thread_out = (await alice.get(f"/api/threads/{thread}")).json()
    assert thread_out["active_leaf_id"] == path[-1]["id"]


async def test_an_edit_is_a_sibling_and_the_agent_sees_only_its_branch(server: Server) -> None:
    thread, (q1, a1, q2, a2) = await two_turns(server)
    edited = await post(server, thread, "two, better", parent_id=a1["id"])
    assert edited["message"]["parent_id"] == a1["id"]
    assert edited["message"]["sibling_ids"] == [q2["id"], edited["message"]["id"]]
    path = await shown(server, thread)
    assert texts(path) == ["one", "you said: one ", "two, better", "you said: two, better "]
    assert path[2]["sibling_ids"] == [q2["id"], edited["message"]["id"]]
    assert path[3]["sibling_ids"] == [path[3]["id"]]
    assert await earlier_turns(server, thread, edited["run_id"]) == "2 earlier turns"
    every = await shown(server, thread, view="tree")
    assert len(every) == 6
    assert {m["id"] for m in (q1, a1, q2, a2)} <= {m["id"] for m in every}


async def test_editing_the_first_message_makes_a_new_root(server: Server) -> None:
    thread, (q1, *_) = await two_turns(server)
    edited = await post(server, thread, "uno", parent_id=None)
    assert await earlier_turns(server, thread, edited["run_id"]) == "0 earlier turns"
    path = await shown(server, thread)
    assert texts(path) == ["uno", "you said: uno "]
    assert path[0]["sibling_ids"] == [q1["id"], edited["message"]["id"]]


async def test_regenerating_an_answer_makes_a_sibling_answer(server: Server) -> None:
    thread, (q1, a1, q2, a2) = await two_turns(server)
    async with server.http("alice") as alice:
        response = await alice.post(f"/api/messages/{a2['id']}/regenerate", json={})
    assert response.status_code == 202, response.text
    run = response.json()
    assert (run["status"], run["user_message_id"], run["id"]) == (
        "running",
        q2["id"],
        run["run_id"],
    )
    assert (await wait_run(server, "alice", run["id"]))["status"] == "completed"
    assert await earlier_turns(server, thread, run["id"]) == "2 earlier turns"
    path = await shown(server, thread)
    assert [m["id"] for m in path[:3]] == [q1["id"], a1["id"], q2["id"]]
    assert path[3]["id"] != a2["id"]
    assert path[3]["parent_id"] == q2["id"]
    assert path[3]["sibling_ids"] == [a2["id"], path[3]["id"]]


async def test_the_thread_remembers_the_branch_shown(server: Server) -> None:
    thread, (_, a1, q2, a2) = await two_turns(server)
    await post(server, thread, "two, again", parent_id=a1["id"])
    async with server.http("alice") as alice:
        # Naming the old question shows its branch down to its newest message (its answer).
        response = await alice.put(
            f"/api/threads/{thread}/active-leaf", json={"message_id": q2["id"]}
        )
        assert response.status_code == 200, response.text
        assert response.json()["active_leaf_id"] == a2["id"]
    assert texts(await shown(server, thread)) == ["one", "you said: one ", "two", "you said: two "]
    # A message posted without a parent follows the branch shown.
    follow = await post(server, thread, "three")
    assert follow["message"]["parent_id"] == a2["id"]
    assert await earlier_turns(server, thread, follow["run_id"]) == "4 earlier turns"


async def test_the_event_log_stays_gap_free_and_replays(server: Server) -> None:
    thread, (_, a1, _, a2) = await two_turns(server)
    await post(server, thread, "two, edited", parent_id=a1["id"])
    async with server.http("alice") as alice:
        regenerated = await alice.post(f"/api/messages/{a2['id']}/regenerate")
        await wait_run(server, "alice", regenerated.json()["id"])
        last_seq = (await alice.get(f"/api/threads/{thread}")).json()["last_seq"]
    events = await server.backend.events.read(thread, 0)
    assert [e.seq for e in events] == list(range(1, last_seq + 1))
    assert [e.type for e in events].count("agent_started") == 4
    async with connect(server) as ws:
        await ws.send(f'{{"type":"subscribe","thread_id":"{thread}","after_seq":0}}')
        replayed = []
        while len(replayed) < last_seq:
            replayed += [m for m in await recv_until(ws, "agent_completed") if m["seq"]]
    assert [m["seq"] for m in replayed] == list(range(1, last_seq + 1))


async def test_send_message_on_the_socket_takes_a_parent(server: Server) -> None:
    thread, (_, a1, q2, _) = await two_turns(server)
    async with connect(server) as ws:
        send = {"type": "send_message", "thread_id": thread, "text": "two?", "parent_id": a1["id"]}
        await ws.send(json.dumps(send))
        (ack,) = [m for m in await recv_until(ws, "ack") if m["type"] == "ack"]
        await recv_until(ws, "agent_completed")
    message_id = ack["payload"]["message_id"]
    path = await shown(server, thread)
    assert path[2]["id"] == message_id
    assert path[2]["sibling_ids"] == [q2["id"], message_id]


async def test_editing_a_message_that_does_not_exist_or_is_elsewhere_is_404(
    server: Server,
) -> None:
    thread, _ = await two_turns(server)
    _, (other_q, *_) = await two_turns(server)
    _, (bobs_q, *_) = await two_turns(server, "bob")
    async with server.http("alice") as alice:
        url = f"/api/threads/{thread}/messages"
        for parent in ("no-such-message", other_q["id"], bobs_q["id"]):
            response = await alice.post(url, json={"text": "x", "parent_id": parent})
            assert response.status_code == 404, response.text
            assert response.json()["detail"]["reason"] == "not_found"
            assert "in this thread (parent_id)" in response.json()["detail"]["message"]
    async with server.http("bob") as bob:
        response = await bob.post(url, json={"text": "x", "parent_id": other_q["id"]})
        assert response.status_code == 404  # alice's thread: bob sees no such thread
    assert len(await shown(server, thread, view="tree")) == 4  # nothing was stored


async def test_regenerating_what_is_not_ones_answer_is_refused(server: Server) -> None:
    _, (q1, a1, *_) = await two_turns(server)
    async with server.http("alice") as alice:
        question = await alice.post(f"/api/messages/{q1['id']}/regenerate")
        missing = await alice.post("/api/messages/no-such-message/regenerate")
    async with server.http("bob") as bob:
        foreign = await bob.post(f"/api/messages/{a1['id']}/regenerate")
    assert question.status_code == 422
    assert question.json()["detail"]["reason"] == "not_an_answer"
    assert "edit a question" in question.json()["detail"]["message"]
    assert (missing.status_code, missing.json()["detail"]["reason"]) == (404, "not_found")
    assert (foreign.status_code, foreign.json()["detail"]["reason"]) == (404, "not_found")


async def test_regenerating_while_a_run_goes_is_run_active(server: Server) -> None:
    thread, (_, _, _, a2) = await two_turns(server)
    async with server.http("alice") as alice:
        hanging = await alice.post(f"/api/threads/{thread}/messages", json={"text": "hang"})
        response = await alice.post(f"/api/messages/{a2['id']}/regenerate")
        assert response.status_code == 409, response.text
        assert response.json()["detail"]["reason"] == "run_active"
        await alice.post(f"/api/runs/{hanging.json()['run_id']}/cancel")
    await wait_run(server, "alice", hanging.json()["run_id"])


async def test_showing_a_foreign_message_is_404(server: Server) -> None:
    thread, path = await two_turns(server)
    _, (other_q, *_) = await two_turns(server)
    _, (bobs_q, *_) = await two_turns(server, "bob")
    async with server.http("alice") as alice:
        url = f"/api/threads/{thread}/active-leaf"
        for message_id in ("no-such-message", other_q["id"], bobs_q["id"]):
            response = await alice.put(url, json={"message_id": message_id})
            assert response.status_code == 404, response.text
            assert response.json()["detail"]["reason"] == "not_found"
    async with server.http("bob") as bob:
        response = await bob.put(url, json={"message_id": path[0]["id"]})
        assert response.status_code == 404
        assert response.json()["detail"]["reason"] == "not_found"
    assert [m["id"] for m in await shown(server, thread)] == [m["id"] for m in path]
