"""A run paused for an approval on backend A, answered on backend B (one PostgreSQL, one
Redis): B resumes it, a client following the thread on A sees every event once, in
order, and the run ends exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netra.testing import ScriptedModelServer
from tests.support.approvals import (
    assert_gap_free,
    events_of,
    models_file,
    post_and_wait,
    script_echo,
    until_status,
)
from tests.support.chat import connect, recv_until
from tests.support.instances import two_backends

pytestmark = pytest.mark.slow  # an auth service and two backends to boot


async def test_an_approval_answered_on_another_instance_resumes_the_run_there(
    tmp_path: Path, scripted: ScriptedModelServer, node_modules: Path
) -> None:
    models = models_file(tmp_path, scripted.base_url, node_modules)
    settings = {"MODELS_FILE": str(models), "OPENAI_MAX_RETRIES": "0"}
    async with two_backends(tmp_path, **settings) as (a, b):
        script_echo(scripted, "call_1", "across", "It went across.")
        async with a.http("alice") as on_a:
            tid, run_id = await post_and_wait(on_a)
        async with connect(a) as ws:
            await recv_until(ws, "hello")
            subscribe = {"type": "subscribe", "thread_id": tid, "after_seq": 0}
            await ws.send(json.dumps(subscribe))
            await recv_until(ws, "approval_required", timeout=10)
            async with b.http("alice") as on_b:
                url = f"/api/runs/{run_id}/approvals/call_1"
                answer = await on_b.post(url, json={"approved": True, "note": "ok"})
                assert answer.status_code == 200, answer.text
                again = await on_b.post(url, json={"approved": False})
            live = await recv_until(ws, "agent_completed", timeout=30)
        async with a.http("alice") as on_a:
            late = await on_a.post(url, json={"approved": True})
            run = await until_status(on_a, run_id, "completed")
            events = await events_of(on_a, tid)
    assert_gap_free(events)
    streamed = [m for m in live if m["seq"] is not None]
    assert streamed == events[len(events) - len(streamed) :]  # in order, none twice
    assert [m["type"] for m in streamed][:3] == [
        "approval_resolved",
        "tool_executing",
        "tool_completed",
    ]
    assert streamed[0]["payload"] == {"call_id": "call_1", "approved": True, "note": "ok"}
    assert streamed[2]["payload"]["result"] == "Echo: across"
    assert run["error"] is None
    for refused in (again, late):
        assert refused.status_code == 409
        assert refused.json()["detail"]["reason"] == "already_resolved"
