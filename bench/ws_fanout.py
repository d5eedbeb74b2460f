"""Fan-out: deliveries/s, server CPU per delivery and p50/p99 latency to N clients
through Netra's /ws, against a plain `websockets` broadcast server (the ceiling) and
python-socketio under uvicorn, in interleaved rounds of one run.
Usage: `uv run python bench/ws_fanout.py [N ...] [--rounds R] [--events E]` (default
100 1000, 3 rounds, max(100, 100000 / N) events).

Netra's path is the real one: clients authenticate with real tokens (bench/common.py),
each batch of events is persisted (a transaction that allocates the thread's seqs) and
then fanned out through the bus and hub.

What is measured: the clients run in other processes but on the same two cores. They
(bench/counting_client.py) count events in the byte stream instead of parsing frames, so
Netra's and socket.io's servers run ~95% busy: their deliveries/s is the server's. The
raw server stays ~70% busy (it sends each event at once, so its clients wake once per
frame): its deliveries/s is a floor, and the ratio of server CPU per delivery (read from
/proc from the trigger to the last delivery; "server capacity") is printed beside it."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from common import (
    TokenMinter,
    cpu_seconds,
    event_body,
    files_appear,
    netra_app,
    serve_forever,
    spawn,
    start_auth,
    wait_port,
)
from counting_client import CountingClient
from netra.testing import free_port

CLIENT_PROCESSES = 2
BATCH = 10
KINDS = ("raw", "netra", "sio")
OWNER = "bench"  # every Netra client is this user (its own session each), on one thread


# --- servers ---------------------------------------------------------------------------
def server_netra(port: int) -> None:
    from fastapi import APIRouter

    from common import bench_settings
    from netra.agents.events import MessageDelta

    app, component, _ = netra_app(bench_settings())
    router = APIRouter()

    @router.post("/bench/thread")
    async def thread() -> dict[str, str]:
        assert component.backend is not None
        return {"id": (await component.backend.threads.create(OWNER, "fan-out")).id}

    @router.post("/bench/publish")
    async def publish(thread_id: str, n: int) -> dict[str, int]:
        backend = component.backend
        assert backend is not None
        for start in range(0, n, BATCH):
            stop = min(n, start + BATCH)
            events = [MessageDelta(text=event_body(i)) for i in range(start, stop)]
            envelopes = await backend.events.append(thread_id, "bench-run", events)
            await backend.runs.publisher.publish(envelopes)
        return {"published": n}

    @router.get("/bench/memory")
    async def memory() -> list[str]:
        """Top Python allocations (BENCH_TRACEMALLOC=1): where per-socket memory goes."""
        import tracemalloc

        if not tracemalloc.is_tracing():
            return []
        stats = tracemalloc.take_snapshot().statistics("lineno")
        return [str(stat) for stat in stats[:25]]

    counting: list[cProfile.Profile] = []

    @router.post("/bench/calls/start")
    async def calls_start() -> dict[str, bool]:
        """Count the Python calls on the event loop's thread from now (bench/post_calls.py)."""
        counting[:] = [cProfile.Profile()]
        counting[0].enable()
        return {"counting": True}

    @router.post("/bench/calls/stop")
    async def calls_stop() -> dict[str, int]:
        """The calls counted since `start` (cProfile: every function and builtin called)."""
        profile = counting.pop()
        profile.disable()
        stats = pstats.Stats(profile)
        return {"calls": stats.total_calls}  # type: ignore[attr-defined]  # not in typeshed

    app.include_router(router)
    if os.environ.get("BENCH_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start()
    serve_forever(app, port)


def server_raw(port: int) -> None:
    async def main() -> None:
        clients: set[Any] = set()

        async def handler(ws: Any) -> None:
            clients.add(ws)
            try:
                async for message in ws:
                    clients.discard(ws)  # a control connection
                    n = int(message.split()[1])
                    for start in range(0, n, BATCH):
                        for i in range(start, min(n, start + BATCH)):
                            websockets.broadcast(clients, event_body(i))
                        await asyncio.sleep(0)
                    await ws.send("done")
            except websockets.ConnectionClosed:
                pass  # the bench's clients leave without waiting for the close handshake
            finally:
                clients.discard(ws)

        async with websockets.serve(
            handler, "127.0.0.1", port, backlog=4096, max_queue=None, compression=None
        ):
            await asyncio.Future()

    asyncio.run(main())


def server_sio(port: int) -> None:
    import socketio

    sio = socketio.AsyncServer(async_mode="asgi")

    @sio.event  # type: ignore[misc]
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        await sio.enter_room(sid, "t")

    @sio.event  # type: ignore[misc]
    async def publish(sid: str, n: int) -> str:
        await sio.leave_room(sid, "t")
        for start in range(0, n, BATCH):
            for i in range(start, min(n, start + BATCH)):
                await sio.emit("ev", event_body(i), room="t")
            await asyncio.sleep(0)
        return "done"

    serve_forever(socketio.ASGIApp(sio), port, ws="auto")  # uvicorn's own protocol


# --- clients ---------------------------------------------------------------------------
async def open_client(kind: str, port: int, thread_id: str, token: str) -> CountingClient:
    if kind == "netra":
        return await CountingClient.netra(port, token, thread_id)
    if kind == "sio":
        return await CountingClient.socketio(port)
    return await CountingClient.connect(port, "/")


async def client_main(
    kind: str, port: int, count: int, *, expect: int, thread_id: str, out: str
) -> None:
    minter = await TokenMinter.open() if kind == "netra" else None
    clients = []
    for _ in range(count):
        token = minter.mint(OWNER) if minter is not None else ""
        clients.append(await open_client(kind, port, thread_id, token))
    Path(out + ".ready").write_text("ok")  # noqa: ASYNC240 (once, before measuring)
    received = await asyncio.gather(*(client.count(expect) for client in clients))
    result = {
        "received": sum(received),
        "last": time.time(),
        "lat": [x for client in clients for x in client.latencies],
    }
    Path(out).write_text(json.dumps(result))  # noqa: ASYNC240 (after measuring)
    # Stay connected until the server's CPU has been read: closing costs it CPU too.
    await files_appear([out + ".stop"], "the orchestrator never said stop")
    for client in clients:
        client.close()


# --- orchestration ---------------------------------------------------------------------
async def trigger(kind: str, port: int, thread_id: str, n: int) -> None:
    if kind == "netra":
        async with httpx.AsyncClient(timeout=600) as http:
            await http.post(
                f"http://127.0.0.1:{port}/bench/publish", params={"thread_id": thread_id, "n": n}
            )
    elif kind == "sio":
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        ) as ws:
            await ws.recv()
            await ws.send("40")
            await ws.recv()
            await ws.send(f'420["publish",{n}]')
    else:
        async with websockets.connect(f"ws://127.0.0.1:{port}") as ws:
            await ws.send(f"publish {n}")
            await ws.recv()


async def one_run(kind: str, clients: int, events: int) -> dict[str, float]:
    port = free_port()
    server = await spawn("ws_fanout", "server", kind, str(port))
    try:
        await wait_port(port)
        thread_id = ""
        if kind == "netra":
            async with httpx.AsyncClient() as http:
                thread_id = (await http.post(f"http://127.0.0.1:{port}/bench/thread")).json()["id"]
        tmp = Path(tempfile.mkdtemp(prefix="fanout-"))
        outs = [str(tmp / f"c{k}.json") for k in range(CLIENT_PROCESSES)]
        share = clients // CLIENT_PROCESSES
        procs = [
            await spawn(
                "ws_fanout",
                "clients",
                kind,
                str(port),
                str(share),
                str(events),
                thread_id,
                out,
            )
            for out in outs
        ]
        # Clients write a .ready file once connected, their counts once all arrived.
        await files_appear([o + ".ready" for o in outs], "clients never connected", 600)
        await asyncio.sleep(0.5)
        cpu_before = cpu_seconds(server.pid)
        start = time.time()
        await trigger(kind, port, thread_id, events)
        await files_appear(outs, "clients never received every event", 600, interval=0.05)
        cpu = cpu_seconds(server.pid) - cpu_before
        results = [json.loads(Path(o).read_text()) for o in outs]  # noqa: ASYNC240
        for out in outs:
            Path(out + ".stop").write_text("")  # noqa: ASYNC240
        for proc in procs:
            await proc.wait()
    finally:
        server.terminate()
        await server.wait()
    received = sum(r["received"] for r in results)
    latencies = sorted(x for r in results for x in r["lat"])
    elapsed = max(r["last"] for r in results) - start
    return {
        "deliveries/s": received / elapsed if elapsed > 0 else 0.0,
        "cpu us": 1e6 * cpu / received if received else float("nan"),
        "busy": cpu / elapsed if elapsed > 0 else float("nan"),
        "lost": clients * events - received,
        "p50 ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99 ms": 1000 * latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
    }


async def orchestrate(sizes: list[int], rounds: int, events: int | None) -> None:
    print(
        f"fan-out: {CLIENT_PROCESSES} client processes, ~190-byte events in batches of "
        f"{BATCH}, Netra persisting each batch before sending it; medians of {rounds} "
        "interleaved rounds"
    )
    auth = await start_auth()
    try:
        for clients in sizes:
            await compare(clients, rounds, events or max(100, 100_000 // clients))
    finally:
        await asyncio.to_thread(auth.stop)


async def compare(clients: int, rounds: int, events: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    for _ in range(rounds):
        for kind in KINDS:
            runs[kind].append(await one_run(kind, clients, events))
    rows = {
        kind: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for kind, rs in runs.items()
    }
    raw = rows["raw"]
    print(f"\nN={clients} clients x {events} events")
    for kind, row in rows.items():
        print(
            f"  {kind:6} {row['deliveries/s']:>7.0f} deliveries/s (x raw "
            f"{row['deliveries/s'] / raw['deliveries/s']:4.2f}), server CPU "
            f"{row['cpu us']:5.1f} us/delivery (busy {100 * row['busy']:3.0f}%), "
            f"p50 {row['p50 ms']:6.1f} ms, p99 {row['p99 ms']:6.1f} ms, lost {row['lost']:.0f}"
        )
    netra, sio = rows["netra"], rows["sio"]
    print(
        f"  netra / raw:      throughput {netra['deliveries/s'] / raw['deliveries/s']:.2f}, "
        f"server capacity (1 / CPU per delivery) {raw['cpu us'] / netra['cpu us']:.2f} "
        "(goal >= 0.7)"
    )
    print(
        f"  netra / socketio: throughput {netra['deliveries/s'] / sio['deliveries/s']:.2f}, "
        f"server capacity {sio['cpu us'] / netra['cpu us']:.2f} (goal >= 2)"
    )


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["server"]:
        {"netra": server_netra, "raw": server_raw, "sio": server_sio}[args[1]](int(args[2]))
    elif args[:1] == ["clients"]:
        kind, port, count, expect, thread_id, out = args[1:7]
        asyncio.run(
            client_main(
                kind, int(port), int(count), expect=int(expect), thread_id=thread_id, out=out
            )
        )
    else:
        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--events", type=int, default=None)
        options = parser.parse_args(args)
        asyncio.run(orchestrate(options.sizes, options.rounds, options.events))


if __name__ == "__main__":
    main()
