"""Python calls per message on the backend's event loop: the work of posting, running and
answering a message counted, not timed. On a shared 2-core machine the same code's CPU
time moves by a third from one minute to the next, which hides any change smaller than
that; a count of calls does not move (docs/architecture.md, Performance, sixth pass).

Usage: `uv run python bench/post_calls.py [USERS] [WAVES]` (default 1000 x 2). SQLite by
default; DATABASE_URL=postgresql://... (an existing, empty database) for PostgreSQL.

USERS users (real tokens, each with a thread and a socket) in four client processes; the
baseline first: every user sends a `ping` at once and waits for its `pong`; then WAVES
times every user sends a message at once and waits for its run's end (builtin agent).
The backend counts the calls made on its event loop's thread (cProfile, every Python
function and builtin) from each wave's start to its last answer. Printed: calls per
ping -> pong, per message (posted, run and answered) and their ratio, for each wave; the
first warms the process (compiled statements, prepared ones), so the last is the figure."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from typing import Any

import httpx

from common import TokenMinter, spawn, start_auth, wait_port
from netra.testing import free_port
from ws_latency import User, client_processes


async def client_main(port: int, first: int, count: int) -> None:
    """USERS first..first+count: ready, then one step per line read (`ping` or `message
    N`), `done` after each; a failure is printed as `failed ...` and ends the process."""
    minter = await TokenMinter.open()
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=64)) as http:
        users = [
            User(port, f"u{k}", minter.mint(f"u{k}"), http) for k in range(first, first + count)
        ]
        await asyncio.gather(*(u.prepare() for u in users))
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).split():
            try:
                if line[0] == "ping":
                    await asyncio.gather(*(u.ping(u.ws, 0) for u in users))
                else:
                    n = int(line[1])
                    await asyncio.gather(*(u.message(u.ws, u.thread_id, n) for u in users))
            except Exception as exc:
                print(f"failed {type(exc).__name__}: {exc}", flush=True)
                return
            print("done", flush=True)


async def step(procs: list[Any], http: httpx.AsyncClient, base: str, line: str) -> int:
    """Calls on the backend's loop while every client process does `line`."""
    (await http.post(f"{base}/bench/calls/start")).raise_for_status()
    for p in procs:
        p.stdin.write(f"{line}\n".encode())
        await p.stdin.drain()
    for p in procs:
        answer = (await p.stdout.readline()).decode().strip()
        if answer != "done":
            raise SystemExit(f"a client process stopped: {answer or 'no answer'}")
    stopped = await http.post(f"{base}/bench/calls/stop")
    stopped.raise_for_status()
    return int(stopped.json()["calls"])


async def main(users: int, waves: int) -> None:
    if "DATABASE_URL" not in os.environ:
        home = tempfile.mkdtemp(prefix="netra-bench-calls-")
        os.environ["DATABASE_URL"] = f"sqlite:///{home}/netra.db"
    print(f"database {os.environ['DATABASE_URL'].split(':', 1)[0]}, {users} users")
    auth = await start_auth()
    port = free_port()
    server = await spawn("ws_fanout", "server", "netra", str(port))
    procs: list[Any] = []
    try:
        await wait_port(port)
        procs = await client_processes(__file__, "client", port, users)
        for p in procs:
            await p.stdout.readline()  # ready
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=300) as http:
            ping = await step(procs, http, base, "ping") / users
            print(f"  ping -> pong: {ping:.0f} Python calls each on the backend's loop")
            for wave in range(waves):
                message = await step(procs, http, base, f"message {wave}") / users
                print(
                    f"  wave {wave + 1}: {message:.0f} calls per message (posted, run, "
                    f"answered): x{message / ping:.1f} a ping -> pong"
                )
    finally:
        for p in procs:
            if p.returncode is None:
                p.stdin.close()
                await p.wait()
        server.terminate()
        await server.wait()
        await asyncio.to_thread(auth.stop)


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        asyncio.run(client_main(*map(int, sys.argv[2:5])))
    else:
        args = [int(a) for a in sys.argv[1:]]
        asyncio.run(main(*(args + [1000, 2][len(args) :])))
