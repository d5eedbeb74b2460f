"""Fan-out: events/s delivered and p50/p99 latency to N clients through Netra's /ws,
against a plain `websockets` broadcast server (the ceiling) and python-socketio under
uvicorn, in one run. Clients run in separate processes (a single Python client process
saturates before the server does). Usage: `uv run python bench/ws_fanout.py [N ...]`.

Netra's path is the real one: each batch of events is persisted (a transaction that
allocates the thread's seqs) and then fanned out through the bus and hub."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.common import (
    cpu_seconds,
    event_body,
    free_port,
    netra_app,
    serve_forever,
    spawn,
    wait_port,
)

CLIENT_PROCESSES = 2
BATCH = 10


# --- servers ---------------------------------------------------------------------------
def server_netra(port: int) -> None:
    from fastapi import APIRouter

    from bench.common import bench_settings
    from netra.agents.events import MessageDelta

    app, component, _ = netra_app(bench_settings())
    router = APIRouter()

    @router.post("/bench/thread")
    async def thread() -> dict[str, str]:
        assert component.backend is not None
        return {"id": (await component.backend.threads.create("bench", "fan-out")).id}

    @router.post("/bench/publish")
    async def publish(thread_id: str, n: int) -> dict[str, int]:
        backend = component.backend
        assert backend is not None
        for start in range(0, n, BATCH):
            stop = min(n, start + BATCH)
            events = [MessageDelta(text=event_body(i)) for i in range(start, stop)]
            envelopes = await backend.events.append(thread_id, "bench-run", events)
            await backend.runs._publish(envelopes)
        return {"published": n}

    app.include_router(router)
    serve_forever(app, port)


def server_raw(port: int) -> None:
    async def main() -> None:
        clients: set[Any] = set()

        async def handler(ws: Any) -> None:
            clients.add(ws)
            async for message in ws:
                clients.discard(ws)  # a control connection
                n = int(message.split()[1])
                for start in range(0, n, BATCH):
                    for i in range(start, min(n, start + BATCH)):
                        websockets.broadcast(clients, event_body(i))
                    await asyncio.sleep(0)
                await ws.send("done")

        async with websockets.serve(handler, "127.0.0.1", port, backlog=4096, max_queue=None):
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

    serve_forever(socketio.ASGIApp(sio), port)


# --- clients ---------------------------------------------------------------------------
async def open_client(kind: str, port: int, thread_id: str) -> Any:
    if kind == "netra":
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws",
            subprotocols=["netra.v1", "bearer.user.bench"],  # type: ignore[list-item]
            max_queue=None,
        )
        await ws.recv()  # hello
        await ws.send(json.dumps({"type": "subscribe", "thread_id": thread_id, "after_seq": 0}))
        await ws.recv()  # ack
        return ws
    if kind == "sio":
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", max_queue=None
        )
        await ws.recv()  # engine.io open
        await ws.send("40")
        await ws.recv()  # namespace connected
        return ws
    return await websockets.connect(f"ws://127.0.0.1:{port}", max_queue=None)


def decode(kind: str, frame: str) -> dict[str, Any] | None:
    if kind == "netra":
        data = json.loads(frame)
        return json.loads(data["payload"]["text"]) if data["type"] == "message_delta" else None
    if kind == "sio":
        return json.loads(json.loads(frame[2:])[1]) if frame.startswith("42") else None
    return json.loads(frame)


async def client_main(
    kind: str, port: int, count: int, *, expect: int, thread_id: str, out: str
) -> None:
    sockets = []
    for _ in range(count):
        sockets.append(await open_client(kind, port, thread_id))
    Path(out + ".ready").write_text("ok")  # noqa: ASYNC240 (once, before measuring)
    latencies: list[float] = []
    last = 0.0

    async def consume(ws: Any) -> int:
        nonlocal last
        got = 0
        while got < expect:
            try:
                frame = await asyncio.wait_for(ws.recv(), 30)
            except (TimeoutError, websockets.ConnectionClosed):
                break
            if kind == "sio" and frame == "2":
                await ws.send("3")
                continue
            event = decode(kind, frame)
            if event is None:
                continue
            now = time.time()
            got += 1
            last = max(last, now)
            if event["i"] % 10 == 0:
                latencies.append(now - event["t"])
        return got

    received = await asyncio.gather(*(consume(ws) for ws in sockets))
    result = {"received": sum(received), "last": last, "lat": latencies}
    Path(out).write_text(json.dumps(result))  # noqa: ASYNC240 (after measuring)
    for ws in sockets:
        await ws.close()


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
    server = await spawn("-m", "bench.ws_fanout", "server", kind, str(port))
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
                "-m",
                "bench.ws_fanout",
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
        for _ in range(6000):  # clients write a .ready file once connected
            if all(Path(o + ".ready").exists() for o in outs):  # noqa: ASYNC240
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        cpu_before = cpu_seconds(server.pid)
        start = time.time()
        await trigger(kind, port, thread_id, events)
        for proc in procs:
            await proc.wait()
        cpu = cpu_seconds(server.pid) - cpu_before
        results = [json.loads(Path(o).read_text()) for o in outs]  # noqa: ASYNC240
    finally:
        server.terminate()
        await server.wait()
    received = sum(r["received"] for r in results)
    latencies = sorted(x for r in results for x in r["lat"])
    elapsed = max(r["last"] for r in results) - start
    return {
        "deliveries/s": received / elapsed if elapsed > 0 else 0.0,
        "cpu us": 1e6 * cpu / received if received else float("nan"),
        "lost": clients * events - received,
        "p50 ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99 ms": 1000 * latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
    }


async def orchestrate(sizes: list[int]) -> None:
    print(f"fan-out, {CLIENT_PROCESSES} client processes, ~190-byte events, batches of {BATCH}")
    for clients in sizes:
        events = max(100, 100_000 // clients)
        rows = {kind: await one_run(kind, clients, events) for kind in ("raw", "netra", "sio")}
        raw = rows["raw"]["deliveries/s"]
        print(f"\nN={clients} clients x {events} events")
        for kind, row in rows.items():
            print(
                f"  {kind:6} {row['deliveries/s']:>9.0f} deliveries/s (x raw "
                f"{row['deliveries/s'] / raw:4.2f})  server CPU {row['cpu us']:6.1f} us/delivery"
                f"  p50 {row['p50 ms']:6.1f} ms  p99 {row['p99 ms']:6.1f} ms"
                f"  lost {row['lost']:.0f}"
            )
        netra, sio = rows["netra"], rows["sio"]
        print(
            f"  throughput netra/raw {netra['deliveries/s'] / raw:.2f} (goal >= 0.7), "
            f"netra/socketio {netra['deliveries/s'] / sio['deliveries/s']:.2f} (goal >= 2); "
            f"CPU per delivery raw/netra {rows['raw']['cpu us'] / netra['cpu us']:.2f}, "
            f"socketio/netra {sio['cpu us'] / netra['cpu us']:.2f}"
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
        asyncio.run(orchestrate([int(a) for a in args] or [100, 1000]))


if __name__ == "__main__":
    main()
