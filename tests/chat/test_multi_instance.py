"""Two backend processes on one PostgreSQL and one Redis: live events cross instances,
and a client that moves from A to B mid-run misses nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.chat.conftest import Server, connect, free_port, recv, recv_until
from tests.conftest import create_pg_database, drop_pg_database

pytestmark = pytest.mark.slow  # two processes to boot: ~15 s on a busy machine
REPO = Path(__file__).resolve().parents[2]


async def start_instance(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.chat.instance",
        str(port),
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{url}/health/ready")).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError(f"instance on {url} never became ready")


@pytest.fixture
async def two_instances(tmp_path: Path) -> AsyncIterator[tuple[Server, Server]]:
    name = await create_pg_database()
    env = {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "RUN_TIMEOUT": "30",
    }
    processes = []
    try:
        # One after the other: the first one migrates the shared database.
        a, url_a = await start_instance(env)
        processes.append(a)
        b, url_b = await start_instance(env)
        processes.append(b)
        fake = uvicorn.Server(uvicorn.Config(app=None))  # type: ignore[arg-type]
        yield Server(None, url_a, fake), Server(None, url_b, fake)  # type: ignore[arg-type]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), 10)
        await drop_pg_database(name)


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
        for _ in range(100):
            run = (await on_a.get(f"/api/runs/{run_id}")).json()
            if run["status"] != "running":
                break
            await asyncio.sleep(0.05)
        assert run["status"] == "cancelled"
