"""Memory per idle authenticated connection: RSS of one server process before and after
N sockets connect (clients in other processes), Netra's /ws beside a plain `websockets`
server. Each Netra socket is a user of its own with a real token (bench/common.py), so
the verified-token cache holds one entry per socket, as in production.
Usage: `uv run python bench/ws_memory.py [N]` (default 10000; goal <= 20 KB, issue 21).
What an idle socket holds, and why: docs/architecture.md (Performance)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import websockets

from common import TokenMinter, files_appear, rss_kb, spawn, start_auth, wait_port
from netra.testing import free_port

CLIENT_PROCESSES = 4


async def hold(kind: str, port: int, count: int, flag: str) -> None:
    minter = await TokenMinter.open() if kind == "netra" else None
    sockets: list[Any] = []
    for k in range(count):
        if minter is not None:  # a user and a session of its own per socket
            token = minter.mint(f"{Path(flag).name}-{k}")
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws",
                subprotocols=["netra.v1", f"bearer.{token}"],  # type: ignore[list-item]
                open_timeout=60,
            )
            await ws.recv()  # hello: authenticated and registered
        else:
            ws = await websockets.connect(f"ws://127.0.0.1:{port}", open_timeout=60)
        sockets.append(ws)
    Path(flag + ".ready").write_text("ok")  # noqa: ASYNC240
    await files_appear([flag + ".stop"], "the orchestrator never said stop", interval=0.2)
    for ws in sockets:
        await ws.close()


async def measure(kind: str, total: int) -> float:
    port = free_port()
    server = await spawn("ws_fanout", "server", kind, str(port))
    tmp = Path(tempfile.mkdtemp(prefix="wsmem-"))
    try:
        await wait_port(port)
        warm = str(tmp / "warm")
        warmup = await spawn("ws_memory", "hold", kind, str(port), "50", warm)
        await files_appear([warm + ".ready"], "the warm-up client never connected", 600)
        await asyncio.sleep(1)
        before = rss_kb(server.pid)
        flags = [str(tmp / f"c{k}") for k in range(CLIENT_PROCESSES)]
        share = total // CLIENT_PROCESSES
        clients = [
            await spawn("ws_memory", "hold", kind, str(port), str(share), flag) for flag in flags
        ]
        await files_appear([f + ".ready" for f in flags], "clients never connected", 600, 0.2)
        await asyncio.sleep(2)
        after = rss_kb(server.pid)
        for flag in [*flags, warm]:
            Path(flag + ".stop").write_text("")  # noqa: ASYNC240
        for process in [*clients, warmup]:
            await process.wait()
    finally:
        server.terminate()
        await server.wait()
    return (after - before) / (share * CLIENT_PROCESSES)


async def main(total: int) -> None:
    auth = await start_auth()
    try:
        raw = await measure("raw", total)
        netra = await measure("netra", total)
    finally:
        await asyncio.to_thread(auth.stop)
    print(f"idle connections: {total}, one server process each")
    print(f"  raw websockets  {raw:6.1f} KB per connection")
    print(f"  netra /ws       {netra:6.1f} KB per connection (goal <= 20; x raw {netra / raw:.2f})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["hold"]:
        kind, port, count, flag = sys.argv[2:6]
        asyncio.run(hold(kind, int(port), int(count), flag))
    else:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
