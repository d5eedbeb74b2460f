"""Time from `send_message` to `agent_started` (builtin agent), and U users x M messages
each with zero lost or duplicated events. Usage:
`uv run python bench/ws_latency.py [USERS] [MESSAGES]` (default 1000 x 10; set
DATABASE_URL to a PostgreSQL database for the many-users part, SQLite is the default)."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

import websockets

from bench.common import free_port, spawn, wait_port

PROCESSES = 4


async def connect(port: int, user: str) -> Any:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws",
        subprotocols=["netra.v1", f"bearer.user.{user}"],  # type: ignore[list-item]
        open_timeout=60,
        max_queue=None,
    )
    await ws.recv()
    return ws


async def new_thread(port: int, user: str) -> str:
    import httpx

    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"http://127.0.0.1:{port}/api/threads",
            json={"title": "bench"},
            headers={"Authorization": f"Bearer user.{user}"},
        )
        return str(response.json()["id"])


async def converse(port: int, user: str, messages: int) -> tuple[list[float], list[str]]:
    """Send `messages` one after the other; the latencies and any protocol violations."""
    thread_id = await new_thread(port, user)
    ws = await connect(port, user)
    latencies, problems, seqs = [], [], []
    terminals: dict[str, int] = {}
    for n in range(messages):
        sent = time.perf_counter()
        await ws.send(
            json.dumps(
                {
                    "type": "send_message",
                    "thread_id": thread_id,
                    "text": f"What is {n} + {n}?",
                    "client_msg_id": f"m{n}",
                }
            )
        )
        while True:
            data = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if data["seq"] is not None:
                seqs.append(data["seq"])
            if data["type"] == "agent_started":
                latencies.append(time.perf_counter() - sent)
            if data["type"] in ("agent_completed", "agent_error"):
                terminals[data["run_id"]] = terminals.get(data["run_id"], 0) + 1
                break
    await ws.close()
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"{user}: seqs not gap-free/unique: {seqs[:20]}…")
    if len(terminals) != messages or any(count != 1 for count in terminals.values()):
        problems.append(f"{user}: {len(terminals)} runs ended, counts {set(terminals.values())}")
    return latencies, problems


async def users_main(port: int, first: int, count: int, messages: int) -> None:
    results = await asyncio.gather(
        *(converse(port, f"u{first + k}", messages) for k in range(count))
    )
    print(
        json.dumps(
            {
                "lat": [x for r in results for x in r[0]],
                "problems": [p for r in results for p in r[1]],
            }
        )
    )


async def main(users: int, messages: int) -> None:
    port = free_port()
    server = await spawn("-m", "bench.ws_fanout", "server", "netra", str(port))
    try:
        await wait_port(port)
        single, problems = await converse(port, "solo", 200)
        single.sort()
        print("send_message -> agent_started, one user, builtin agent, 200 messages:")
        print(
            f"  p50 {1000 * statistics.median(single):.1f} ms  "
            f"p99 {1000 * single[int(len(single) * 0.99) - 1]:.1f} ms (goal < 10 ms)"
        )
        share = users // PROCESSES
        start = time.perf_counter()
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.ws_latency",
                "users",
                str(port),
                str(k * share),
                str(share),
                str(messages),
                stdout=asyncio.subprocess.PIPE,
            )
            for k in range(PROCESSES)
        ]
        outputs = [json.loads((await p.communicate())[0]) for p in procs]
        elapsed = time.perf_counter() - start
        latencies = sorted(x for o in outputs for x in o["lat"])
        problems += [p for o in outputs for p in o["problems"]]
        print(
            f"{share * PROCESSES} users x {messages} messages in {elapsed:.1f}s "
            f"({len(latencies) / elapsed:.0f} runs/s):"
        )
        print(f"  runs started {len(latencies)}, lost or duplicated events: {len(problems)}")
        if latencies:
            print(
                f"  send_message -> agent_started under load: p50 "
                f"{1000 * statistics.median(latencies):.0f} ms, "
                f"p99 {1000 * latencies[int(len(latencies) * 0.99) - 1]:.0f} ms"
            )
        for problem in problems[:10]:
            print("  !", problem)
    finally:
        server.terminate()
        await server.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["users"]:
        port, first, count, messages = map(int, sys.argv[2:6])
        asyncio.run(users_main(port, first, count, messages))
    else:
        args = [int(a) for a in sys.argv[1:]]
        asyncio.run(main(*(args + [1000, 10][len(args) :])))
