"""Two backend processes on one PostgreSQL and one Redis, beside a separate auth service
whose tokens they verify: live events cross instances, and a client that moves from A to
B mid-run misses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.chat import Server, connect, recv, recv_until, wait_run
from tests.support.instances import two_backends

pytestmark = pytest.mark.slow  # three processes to boot: ~15 s on a busy machine


@pytest.fixture
async def two_instances(tmp_path: Path) -> AsyncIterator[tuple[Server, Server]]:
    async with two_backends(tmp_path) as servers:
        yield servers


def send(thread_id: str, text: str) -> str:
    return json.dumps({"type": "send_message", "thread_id": thread_id, "text": text})


async def test_client_moving_from_a_to_b_mid_run_misses_nothing(
    two_instances: tuple[Server, Server],
) -> None:
    a, b = two_instances
    async with a.http("alice") as client:
        tid = (await client.post("/api/threads", json={"title": "multi"})).json()["id"]
    words = " ".join(f"w{n}" for n in range(30))
    seen: list[dict[str, Any]] = []
    async with connect(a) as on_a:
        await recv(on_a)
        await on_a.send(json.dumps({"type": "subscribe", "thread_id": tid, "after_seq": 0}))
        await recv(on_a)
        # The run executes on B; A's client sees it live through Redis.
        async with b.http("alice") as client:
            posted = await client.post(
                f"/api/threads/{tid}/messages", json={"text": f"slow {words}"}
            )
            assert posted.status_code == 202
        while len(seen) < 8:
            message = await recv(on_a)
            if message["type"] != "heartbeat":
                seen.append(message)
    async with connect(b) as on_b:
        await recv(on_b)
        after = seen[-1]["seq"]
        await on_b.send(json.dumps({"type": "subscribe", "thread_id": tid, "after_seq": after}))
        await recv(on_b)
        seen += await recv_until(on_b, "agent_completed", timeout=15)
    seqs = [m["seq"] for m in seen]
    assert seqs == list(range(1, len(seqs) + 1))
    text = "".join(m["payload"]["text"] for m in seen if m["type"] == "message_delta")
    assert text == seen[-1]["payload"]["text"] == f"you said: slow {words} ".replace("  ", " ")


async def test_cancel_on_a_stops_a_run_on_b(two_instances: tuple[Server, Server]) -> None:
    a, b = two_instances
    async with b.http("alice") as on_b, a.http("alice") as on_a:
        tid = (await on_b.post("/api/threads", json={})).json()["id"]
        run_id = (await on_b.post(f"/api/threads/{tid}/messages", json={"text": "hang"})).json()[
            "run_id"
        ]
        await asyncio.sleep(0.3)
        assert (await on_a.post(f"/api/runs/{run_id}/cancel")).status_code == 202
    run = await wait_run(a, "alice", run_id, timeout=5)
    assert run["status"] == "cancelled"
