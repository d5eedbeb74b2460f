"""Admission to workers (netra.chat.run_queue): with every RUN_WORKERS busy a message is
still stored and acknowledged at once, its ack says `queued` and its `agent_started`
comes at once; its run starts when a worker is free, users taking turns. A waiting run
can be cancelled, and a stopping process ends the waiting runs with an `agent_error`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from netra.chat.models import Run
from netra.testing import eventually
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
    wait_run,
)

ALICE, BOB = "alice", "bob"


@pytest.fixture
async def one_worker(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Server]:
    settings = make_settings(**database_env, RUN_TIMEOUT="20", RUN_WORKERS="1")
    srv = await start_server(*chat_app(settings))
    try:
        yield srv
    finally:
        await stop_server(srv)


async def post(srv: Server, user: str, thread_id: str, text: str) -> dict[str, Any]:
    async with srv.http(user) as client:
        answer = await client.post(f"/api/threads/{thread_id}/messages", json={"text": text})
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def events(srv: Server, user: str, thread_id: str) -> list[dict[str, Any]]:
    async with srv.http(user) as client:
        page = await client.get(f"/api/threads/{thread_id}/events")
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def cancel(srv: Server, user: str, run_id: str) -> None:
    async with srv.http(user) as client:
        assert (await client.post(f"/api/runs/{run_id}/cancel")).status_code == 202


async def test_busy_workers_queue_runs_in_turns_by_user(one_worker: Server) -> None:
    srv = one_worker
    holder = await post(srv, ALICE, await new_thread(srv, ALICE), "hang")
    assert holder["status"] == "running"
    # Alice sends two more (two threads) before Bob sends one: all wait for the worker.
    alice_threads = [await new_thread(srv, ALICE) for _ in range(2)]
    bob_thread = await new_thread(srv, BOB)
    waiting = [await post(srv, ALICE, tid, f"alice {k}") for k, tid in enumerate(alice_threads)]
    waiting.append(await post(srv, BOB, bob_thread, "bob"))
    assert [w["status"] for w in waiting] == ["queued"] * 3
    assert len(srv.backend.runs.queue) == 3
    # Stored and announced already: agent_started is in each thread's log and nothing else.
    for user, tid in [(ALICE, alice_threads[0]), (ALICE, alice_threads[1]), (BOB, bob_thread)]:
        assert [e["type"] for e in await events(srv, user, tid)] == ["agent_started"]

    await cancel(srv, ALICE, holder["run_id"])  # the worker is free: the queue drains
    owners = [ALICE, ALICE, BOB]
    finished = [await wait_run(srv, u, w["run_id"]) for u, w in zip(owners, waiting, strict=True)]
    assert [run["status"] for run in finished] == ["completed"] * 3
    # One worker runs them one after the other: Bob's turn came before Alice's second.
    by_finish = sorted(finished, key=lambda run: str(run["finished_at"]))
    assert [run["id"] for run in by_finish] == [waiting[k]["run_id"] for k in (0, 2, 1)]
    for user, tid in [(ALICE, alice_threads[0]), (ALICE, alice_threads[1]), (BOB, bob_thread)]:
        logged = await events(srv, user, tid)
        assert [e["seq"] for e in logged] == list(range(1, len(logged) + 1))
        types = [e["type"] for e in logged]
        assert types[0] == "agent_started"
        assert types.count("agent_started") == 1
        assert types[-1] == "agent_completed"
    assert len(srv.backend.runs.queue) == 0


async def test_a_waiting_run_reads_its_history_while_it_waits(one_worker: Server) -> None:
    """It starts with its history in hand: a worker is not held through the read."""
    srv = one_worker
    queue = srv.backend.runs.queue
    tid = await new_thread(srv, BOB)
    first = await post(srv, BOB, tid, "first")
    assert (await wait_run(srv, BOB, first["run_id"]))["status"] == "completed"
    holder = await post(srv, ALICE, await new_thread(srv, ALICE), "hang")
    second = await post(srv, BOB, tid, "second")
    assert second["status"] == "queued"
    item = queue.waiting(second["run_id"])
    assert item is not None
    assert item.turns is not None
    read = item.turns

    async def read_done() -> bool | None:
        return True if read.done() else None

    await eventually(read_done, 5.0, "the waiting run's history")  # while the worker hangs
    assert second["run_id"] in queue
    turns = read.result()  # the thread's messages: the first exchange and the question
    assert sorted(role for _, role, _ in turns.values()) == ["assistant", "user", "user"]
    await cancel(srv, ALICE, holder["run_id"])
    assert (await wait_run(srv, BOB, second["run_id"]))["status"] == "completed"
    thoughts = [
        e["payload"]["text"]
        for e in await events(srv, BOB, tid)
        if e["run_id"] == second["run_id"] and e["type"] == "agent_thinking"
    ]
    assert "2 earlier turns" in thoughts  # the first question and its answer


async def test_a_socket_is_told_queued_and_follows_the_run_when_it_starts(
    one_worker: Server,
) -> None:
    srv = one_worker
    holder = await post(srv, ALICE, await new_thread(srv, ALICE), "hang")
    tid = await new_thread(srv, BOB)
    send = {"type": "send_message", "thread_id": tid, "text": "later", "client_msg_id": "c1"}
    async with connect(srv, BOB) as ws:
        await recv(ws)  # hello
        await ws.send(json.dumps({**send, "id": "q1"}))
        ack = await recv(ws)
        assert (ack["type"], ack["payload"]["status"], ack["payload"]["created"]) == (
            "ack",
            "queued",
            True,
        )
        started = await recv(ws)
        assert (started["type"], started["seq"]) == ("agent_started", 1)
        # The same message again (a retry) is the same run, still waiting.
        await ws.send(json.dumps({**send, "id": "q2"}))
        retry = await recv(ws)
        assert (retry["payload"]["id"], retry["run_id"]) == ("q2", ack["run_id"])
        assert (retry["payload"]["status"], retry["payload"]["created"]) == ("queued", False)
        with pytest.raises(TimeoutError):  # nothing more while the worker is taken
            await recv(ws, timeout=0.3)
        await cancel(srv, ALICE, holder["run_id"])
        rest = await recv_until(ws, "agent_completed")
    assert rest[-1]["payload"]["text"]
    assert [e["seq"] for e in rest] == list(range(2, len(rest) + 2))


async def test_a_waiting_run_can_be_cancelled(one_worker: Server) -> None:
    srv = one_worker
    holder = await post(srv, ALICE, await new_thread(srv, ALICE), "hang")
    tid = await new_thread(srv, BOB)
    waiting = await post(srv, BOB, tid, "never mind")
    assert waiting["status"] == "queued"
    item = srv.backend.runs.queue.waiting(waiting["run_id"])
    assert item is not None
    assert item.turns is not None
    await cancel(srv, BOB, waiting["run_id"])
    await asyncio.sleep(0)
    assert item.turns.done()  # its history's read is stopped (or was done)
    ended = await wait_run(srv, BOB, waiting["run_id"])
    assert (ended["status"], ended["error"]) == ("cancelled", "cancelled by the user")
    assert [(e["type"], e["payload"].get("code")) for e in await events(srv, BOB, tid)] == [
        ("agent_started", None),
        ("agent_error", "cancelled"),
    ]
    assert waiting["run_id"] not in srv.backend.runs.queue
    # A second cancel finds it finished; the thread takes a new message at once.
    async with srv.http(BOB) as client:
        again = await client.post(f"/api/runs/{waiting['run_id']}/cancel")
        assert (again.status_code, again.json()["detail"]["reason"]) == (409, "run_finished")
    assert (await post(srv, BOB, tid, "now then"))["status"] == "queued"
    await cancel(srv, ALICE, holder["run_id"])


async def test_stopping_ends_the_waiting_runs_with_an_error(one_worker: Server) -> None:
    srv = one_worker
    await post(srv, ALICE, await new_thread(srv, ALICE), "hang")
    tid = await new_thread(srv, BOB)
    waiting = await post(srv, BOB, tid, "later")
    await srv.backend.runs.shutdown()
    ended = await wait_run(srv, BOB, waiting["run_id"])
    assert ended["status"] == "cancelled"
    assert ended["error"] == "the server restarted during this answer; send it again"
    # Nothing started it meanwhile: its log is agent_started, then the error.
    assert [e["type"] for e in await events(srv, BOB, tid)] == ["agent_started", "agent_error"]


async def test_a_waiting_run_keeps_its_lease(one_worker: Server) -> None:
    """Another instance's sweeper fails runs whose lease expired: a waiting run is this
    instance's, renewed with the running ones."""
    srv = one_worker
    runs = srv.backend.runs
    await post(srv, ALICE, await new_thread(srv, ALICE), "hang")
    waiting = await post(srv, BOB, await new_thread(srv, BOB), "later")
    before = await wait_lease(srv, waiting["run_id"])
    await asyncio.sleep(0.05)
    await runs.leases.renew()
    assert await wait_lease(srv, waiting["run_id"]) > before
    assert await runs.leases.sweep() == 0


async def wait_lease(srv: Server, run_id: str) -> Any:
    async def lease() -> Any:
        async with srv.backend.runtime.db() as session:
            run = await session.get(Run, run_id)
            return None if run is None else run.lease_expires_at

    return await eventually(lease, 2.0, "the run's row")
