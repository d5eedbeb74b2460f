"""Issue 17 item 3: approval before risky tool calls. A scripted model calls
server-everything's `echo` (marked `requires_approval`); the run emits
`approval_required`, waits holding no task (status `waiting`), and resumes where the
answer arrives: over REST or the socket, after the timeout, after a restart."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.client import NetraClient, NetraError
from netra.service import build_app
from netra.testing import PASSWORD, ScriptedModelServer, answer_chunks, chunk, eventually
from tests.support.approvals import (
    ECHO,
    assert_gap_free,
    events_of,
    models_file,
    post_and_wait,
    script_echo,
    tool_call,
    until_status,
)
from tests.support.apps import SettingsFactory
from tests.support.chat import Server, connect, recv_until, start_server, stop_server

Start = Callable[..., Awaitable[Server]]


@pytest.fixture
async def start(
    make_settings: SettingsFactory,
    tmp_path: Path,
    scripted: ScriptedModelServer,
    node_modules: Path,
) -> AsyncIterator[Start]:
    """`await start(**ENV)`: the embedded app with the approvals models file, on one
    SQLite database and DATA_DIR (a second call after stopping the first is a restart)."""
    started: list[Server] = []
    models = models_file(tmp_path, scripted.base_url, node_modules)

    async def launch(**env: str) -> Server:
        settings = make_settings(
            DATABASE_URL=f"sqlite:///{tmp_path / 'netra.db'}",
            MODELS_FILE=str(models),
            OPENAI_MAX_RETRIES="0",
            **env,
        )
        chat = ChatComponent()
        srv = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
        started.append(srv)
        return srv

    yield launch
    for srv in started:
        await stop_server(srv)  # again for one stopped by its test: a no-op


async def no_task(srv: Server, run_id: str) -> None:
    async def gone() -> bool | None:
        return True if run_id not in srv.backend.runs.tasks else None

    await eventually(gone, 10, f"run {run_id} still has a task")


def payloads(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event["payload"] for event in events if event["type"] == kind]


async def test_an_approved_call_runs_and_the_run_completes(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start()
    script_echo(scripted, "call_1", "hi", "The echo said hi.")
    async with srv.http("alice") as client:
        tid, run_id = await post_and_wait(client)
        await no_task(srv, run_id)  # a waiting run holds none
        metrics = (await client.get("/metrics")).text
        assert "netra_approvals_waiting 1.0" in metrics
        events = await events_of(client, tid)
        assert events[-1]["type"] == "approval_required"
        assert events[-1]["payload"] == {
            "call_id": "call_1",
            "tool": ECHO,
            "arguments": {"message": "hi"},
        }
        assert payloads(events, "tool_executing") == []  # nothing ran before the answer

        answer = await client.post(f"/api/runs/{run_id}/approvals/call_1", json={"approved": True})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "run_id": run_id,
            "thread_id": tid,
            "call_id": "call_1",
            "approved": True,
            "note": None,
        }
        run = await until_status(client, run_id, "completed")
        events = await events_of(client, tid)
        again = await client.post(f"/api/runs/{run_id}/approvals/call_1", json={"approved": False})
        metrics = (await client.get("/metrics")).text
    assert run["error"] is None
    assert_gap_free(events)
    kinds = [event["type"] for event in events]
    at = kinds.index("approval_required")
    assert kinds[at : at + 4] == [
        "approval_required",
        "approval_resolved",
        "tool_executing",
        "tool_completed",
    ]
    assert payloads(events, "approval_resolved") == [
        {"call_id": "call_1", "approved": True, "note": None}
    ]
    assert payloads(events, "tool_completed")[0]["result"] == "Echo: hi"
    assert payloads(events, "agent_completed")[0]["text"] == "The echo said hi."
    assert scripted.requests[1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": json.dumps({"result": "Echo: hi"}),
    }
    assert again.status_code == 409
    assert again.json()["detail"]["reason"] == "already_resolved"
    assert "netra_approvals_waiting 0.0" in metrics


async def test_a_denial_over_the_socket_gives_the_model_an_error_and_the_run_goes_on(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start()
    script_echo(scripted, "call_9", "rm -rf", "I did not run it.")
    async with srv.http("alice") as client:
        tid, run_id = await post_and_wait(client)
        async with connect(srv) as ws:
            await recv_until(ws, "hello")
            await ws.send(json.dumps({"type": "subscribe", "thread_id": tid, "id": "s"}))
            await recv_until(ws, "approval_required")
            request = {
                "type": "approve_tool",
                "run_id": run_id,
                "call_id": "call_9",
                "approved": False,
                "note": "not now",
                "id": "a1",
            }
            await ws.send(json.dumps(request))
            seen = await recv_until(ws, "agent_completed", timeout=30)
            await ws.send(json.dumps(request))
            refused = (await recv_until(ws, "error"))[-1]
        run = await until_status(client, run_id, "completed")
    acks = [m for m in seen if m["type"] == "ack" and m["payload"]["request"] == "approve_tool"]
    assert acks[0]["run_id"] == run_id
    assert acks[0]["payload"] == {
        "request": "approve_tool",
        "id": "a1",
        "call_id": "call_9",
        "approved": False,
    }
    kinds = [m["type"] for m in seen if m["seq"] is not None]
    assert kinds == ["approval_resolved", "tool_completed", "message_delta", "agent_completed"]
    completed = next(m["payload"] for m in seen if m["type"] == "tool_completed")
    assert completed["error"] == "declined by the user: not now"
    assert scripted.requests[1]["messages"][-1]["content"] == json.dumps(
        {"error": "declined by the user: not now"}
    )
    assert refused["payload"]["code"] == "already_resolved"
    assert refused["payload"]["call_id"] == "call_9"
    assert run["status"] == "completed"


async def test_each_call_of_a_step_asks_in_turn_and_a_reused_call_id_asks_again(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start()
    first = tool_call("call_0", ECHO, {"message": "one"})
    second = {**tool_call("call_1", ECHO, {"message": "two"}), "index": 1}
    scripted.script(
        scripted.sse([chunk(tool_calls=[first, second]), chunk(finish="tool_calls")]),
        # The next step numbers its call call_0 again (as some servers do).
        scripted.sse(
            [
                chunk(tool_calls=[tool_call("call_0", ECHO, {"message": "three"})]),
                chunk(finish="tool_calls"),
            ]
        ),
        scripted.sse(answer_chunks("All answered.")),
    )
    async with srv.http("alice") as client:
        tid, run_id = await post_and_wait(client)
        answers = [("call_0", True), ("call_1", False), ("call_0", True)]
        for number, (call_id, approved) in enumerate(answers):
            if number:
                await until_asked(client, tid, number + 1)
            url = f"/api/runs/{run_id}/approvals/{call_id}"
            answered = await client.post(url, json={"approved": approved})
            assert answered.status_code == 200, answered.text
        run = await until_status(client, run_id, "completed")
        events = await events_of(client, tid)
    assert run["error"] is None
    assert_gap_free(events)
    asked = [p["arguments"]["message"] for p in payloads(events, "approval_required")]
    assert asked == ["one", "two", "three"]
    outcomes = [(p["result"], p["error"]) for p in payloads(events, "tool_completed")]
    assert outcomes == [("Echo: one", None), (None, "declined by the user"), ("Echo: three", None)]
    assert payloads(events, "agent_completed")[0]["text"] == "All answered."


async def until_asked(client: httpx.AsyncClient, thread_id: str, times: int) -> None:
    """Until the thread's run has asked `times` approvals and waits on the last."""

    async def asked() -> bool | None:
        events = await events_of(client, thread_id)
        waiting = events[-1]["type"] == "approval_required"
        count = len(payloads(events, "approval_required"))
        return True if waiting and count == times else None

    await eventually(asked, 30, f"approval {times} was never asked")


async def test_unanswered_approvals_are_declined_after_the_timeout(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start(APPROVAL_TIMEOUT="1", RUN_LEASE="1.5")
    script_echo(scripted, "call_1", "hi", "Nobody answered.")
    async with srv.http("alice") as client:
        tid, run_id = await post_and_wait(client)
        await until_status(client, run_id, "completed")
        late = await client.post(f"/api/runs/{run_id}/approvals/call_1", json={"approved": True})
        events = await events_of(client, tid)
    async with NetraClient(srv.url, access_token=await srv.users.token()) as netra:
        with pytest.raises(NetraError) as refused:
            await netra.answer_approval(run_id, "call_1", approved=True)
    assert (refused.value.status, refused.value.reason) == (409, "already_resolved")
    assert_gap_free(events)
    note = "no answer within 1 s (APPROVAL_TIMEOUT)"
    assert payloads(events, "approval_resolved") == [
        {"call_id": "call_1", "approved": False, "note": note}
    ]
    assert payloads(events, "tool_completed")[0]["error"] == f"declined by the user: {note}"
    assert late.status_code == 409
    assert late.json()["detail"]["reason"] == "already_resolved"
    assert "timed out" in late.json()["detail"]["message"]


async def test_the_lease_sweeper_leaves_a_waiting_run_alone(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start(RUN_LEASE="0.3")
    script_echo(scripted, "call_1", "hi", "Done.")
    async with srv.http("alice") as client:
        tid, run_id = await post_and_wait(client)
        await srv.backend.runs.leases.sweep()
        assert (await client.get(f"/api/runs/{run_id}")).json()["status"] == "waiting"
        answer = await client.post(f"/api/runs/{run_id}/approvals/call_1", json={"approved": True})
        assert answer.status_code == 200, answer.text
        await until_status(client, run_id, "completed")
        assert_gap_free(await events_of(client, tid))


async def test_a_run_waiting_through_a_backend_restart_resumes_on_the_new_process(
    start: Start, scripted: ScriptedModelServer
) -> None:
    first = await start()
    script_echo(scripted, "call_1", "after restart", "It echoed after the restart.")
    async with first.http("alice") as client:
        tid, run_id = await post_and_wait(client)
    await stop_server(first)
    second = await start()
    async with NetraClient(second.url, access_token=await second.users.token()) as netra:
        assert (await netra.get_run(run_id))["status"] == "waiting"
        answered = await netra.answer_approval(run_id, "call_1", approved=True)  # the SDK
    assert answered["approved"] is True
    async with second.http("alice") as client:
        run = await until_status(client, run_id, "completed")
        events = await events_of(client, tid)
        shown = (await client.get(f"/api/threads/{tid}/messages")).json()["items"]
    assert run["error"] is None
    assert_gap_free(events)
    # The answer of the resumed run follows its question in the thread.
    assert [(m["role"], m["content"]) for m in shown] == [
        ("user", "echo it"),
        ("assistant", "It echoed after the restart."),
    ]
    assert payloads(events, "tool_completed")[0]["result"] == "Echo: after restart"
    assert payloads(events, "agent_completed")[0]["text"] == "It echoed after the restart."


async def test_a_waiting_run_holds_its_thread_and_cancelling_it_withdraws_its_approval(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start()
    script_echo(scripted, "call_1", "hi", "unused")
    async with srv.http("alice") as client:
        tid, run_id = await post_and_wait(client)
        # A waiting run still holds its thread.
        second = await client.post(f"/api/threads/{tid}/messages", json={"text": "more"})
        assert second.status_code == 409, second.text
        assert second.json()["detail"]["reason"] == "run_active"
        cancelled = await client.post(f"/api/runs/{run_id}/cancel")
        assert cancelled.status_code == 202, cancelled.text
        run = await until_status(client, run_id, "cancelled")
        late = await client.post(f"/api/runs/{run_id}/approvals/call_1", json={"approved": True})
        unknown = await client.post(f"/api/runs/{run_id}/approvals/call_x", json={"approved": True})
        events = await events_of(client, tid)
    assert run["error"] == "cancelled by the user"
    assert_gap_free(events)
    assert events[-1]["payload"]["code"] == "cancelled"
    assert late.status_code == 409
    assert late.json()["detail"]["reason"] == "already_resolved"
    assert unknown.status_code == 409
    assert unknown.json()["detail"]["reason"] == "run_finished"


async def test_bad_answers_are_refused_with_precise_reasons(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start()
    script_echo(scripted, "call_1", "hi", "Done.")
    async with srv.http("alice") as alice:
        _, run_id = await post_and_wait(alice)
        url = f"/api/runs/{run_id}/approvals/call_1"
        unknown_call = await alice.post(
            f"/api/runs/{run_id}/approvals/nope", json={"approved": True}
        )
        unknown_run = await alice.post(
            "/api/runs/no-such-run/approvals/call_1", json={"approved": True}
        )
        no_body = await alice.post(url)
        not_bool = await alice.post(url, json={"approved": "maybe"})
        extra = await alice.post(url, json={"approved": True, "run": "x"})
        long_note = await alice.post(url, json={"approved": True, "note": "x" * 2001})
        not_json = await alice.post(url, content=b"{", headers={"content-type": "application/json"})
        key = await alice.post(
            "/auth/api-keys", json={"name": "ro", "scopes": ["chat:read"], "password": PASSWORD}
        )
        assert key.status_code == 201, key.text
        read_only = {"Authorization": f"Bearer {key.json()['api_key']}"}
        scoped = await alice.post(url, json={"approved": True}, headers=read_only)
        async with srv.http("mallory") as mallory:
            foreign = await mallory.post(url, json={"approved": True})
        # None of the above answered it: the run still waits.
        assert (await alice.get(f"/api/runs/{run_id}")).json()["status"] == "waiting"
        assert (await alice.post(url, json={"approved": True})).status_code == 200
        await until_status(alice, run_id, "completed")
    for answer in (unknown_call, unknown_run, foreign):  # someone else's run: not found
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"]["reason"] == "not_found"
    for answer in (no_body, not_bool, extra, long_note, not_json):
        assert answer.status_code == 422, answer.text
    assert scoped.status_code == 403
    assert scoped.json()["detail"]["reason"] == "insufficient_scope"


async def test_approving_over_a_socket_needs_the_chat_scope_and_an_existing_call(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start()
    script_echo(scripted, "call_1", "hi", "Done.")
    async with srv.http("alice") as client:
        _, run_id = await post_and_wait(client)
        key = await client.post(
            "/auth/api-keys", json={"name": "ro", "scopes": ["chat:read"], "password": PASSWORD}
        )
    answer = {"type": "approve_tool", "run_id": run_id, "call_id": "call_1", "approved": True}
    async with connect(srv, token=key.json()["api_key"]) as ws:
        await recv_until(ws, "hello")
        await ws.send(json.dumps(answer))
        scoped = (await recv_until(ws, "error"))[-1]["payload"]
    async with connect(srv, "mallory") as ws:
        await recv_until(ws, "hello")
        await ws.send(json.dumps(answer))
        foreign = (await recv_until(ws, "error"))[-1]["payload"]
    async with connect(srv) as ws:
        await recv_until(ws, "hello")
        await ws.send(json.dumps({**answer, "call_id": "nope"}))
        unknown = (await recv_until(ws, "error"))[-1]["payload"]
    assert scoped["code"] == "insufficient_scope"
    assert foreign["code"] == "not_found"
    assert unknown["code"] == "not_found"


async def test_netra_chat_asks_at_the_terminal_and_the_run_goes_on(
    start: Start, scripted: ScriptedModelServer
) -> None:
    srv = await start()
    script_echo(scripted, "call_1", "from the terminal", "The terminal approved it.")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "netra"),
        "chat",
        "--url",
        srv.url,
        "-m",
        "echo it",
        env={**os.environ, "NETRA_TOKEN": await srv.users.token("alice")},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(b"y\n"), 60)
    assert process.returncode == 0, stderr.decode()
    assert "approve everything__echo" in stderr.decode()
    assert stdout.decode().strip() == "The terminal approved it."
