"""Runs outlive sockets but not silently their server: shutdown and crashed instances."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from netra.chat.models import Run
from netra.db.base import utcnow
from tests.support.chat import Serve, closed_with, connect, new_thread, recv, stop_server


async def test_shutdown_closes_1012_and_records_interrupted_runs(serve: Serve) -> None:
    srv = await serve(RUN_TIMEOUT="60")
    tid = await new_thread(srv)
    async with connect(srv) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "send_message", "thread_id": tid, "text": "hang"}))
        run_id = (await recv(ws))["run_id"]
        await asyncio.sleep(0.2)
        stopping = asyncio.create_task(stop_server(srv))
        code, _ = await closed_with(ws)
        assert code == 1012
        await stopping
    again = await serve(RUN_TIMEOUT="60")
    async with again.http("alice") as client:
        run = (await client.get(f"/api/runs/{run_id}")).json()
        assert run["status"] == "cancelled"
        assert run["error"] == "the server restarted during this answer; send it again"
        last = (await client.get(f"/api/threads/{tid}/events")).json()["items"][-1]
        assert last["type"] == "agent_error"


async def test_orphaned_run_is_failed_when_its_lease_expires(serve: Serve) -> None:
    srv = await serve()
    tid = await new_thread(srv)
    backend = srv.backend
    async with backend.runtime.db.begin() as session:
        orphan = Run(
            thread_id=tid,
            user_message_id="m",
            status="running",
            provider="scripted",
            instance_id="crashed-host:1",
            lease_expires_at=utcnow() - timedelta(seconds=1),
        )
        session.add(orphan)
    assert await backend.runs.leases.sweep() == 1
    async with srv.http("alice") as client:
        run = (await client.get(f"/api/runs/{orphan.id}")).json()
        assert run["status"] == "failed"
        event = (await client.get(f"/api/threads/{tid}/events")).json()["items"][-1]
        assert event["type"] == "agent_error"
        assert event["payload"] == {
            "reason": "the server running this answer stopped; send the message again",
            "code": "internal",
        }
    assert await backend.runs.leases.sweep() == 0
