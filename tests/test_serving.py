"""Stopping a served process: what is under way finishes on open connections first."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
from pathlib import Path

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from netra.client import NetraClient
from netra.collector import GC_THRESHOLD, CollectorHold
from netra.serving import run_loop, serve_settled
from netra.testing import NetraProcess, free_port, netra_env
from tests.support.chat import Server
from tests.support.model_answers import SLOW_ANSWER, prompted_model


async def _frames_until_closed(ws: ClientConnection) -> tuple[list[dict[str, object]], int]:
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else 1006


async def test_sigterm_lets_a_run_finish_on_its_socket_then_closes_1012(tmp_path: Path) -> None:
    with prompted_model().in_thread() as llm:
        settings = {
            "ENVIRONMENT": "development",
            "AGENT_PROVIDER": "openai",
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_MAX_RETRIES": "0",
        }
        port = free_port()
        netra = NetraProcess(
            ["up", "--data-dir", str(tmp_path / "data")],
            netra_env(tmp_path, **settings),
            port,
            tmp_path / "netra.log",
        )
        with netra:
            netra.wait_for("/health/ready")
            async with NetraClient(netra.url) as client:
                await client.register("drain@example.com", "a long enough password")
                await client.sign_in("drain@example.com", "a long enough password")
                asking = (await client.create_thread("asks")).id
                late = (await client.create_thread("sends too late")).id
                async with await client.connect() as ws, await client.connect() as other:
                    await ws.send(
                        json.dumps(
                            {"type": "send_message", "thread_id": asking, "text": "slow please"}
                        )
                    )
                    while json.loads(await ws.recv())["type"] != "message_delta":
                        pass
                    netra.process.send_signal(signal.SIGTERM)
                    await asyncio.sleep(0.5)
                    send = {"type": "send_message", "thread_id": late, "text": "hello"}
                    await other.send(json.dumps(send))
                    refused, refused_code = await _frames_until_closed(other)
                    frames, code = await _frames_until_closed(ws)
            # uvicorn re-raises SIGTERM once it has shut down gracefully
            assert netra.process.wait(30) == -signal.SIGTERM
        assert refused_code == 1012
        assert [f["type"] for f in refused if f["type"] != "hello"] == []  # nothing stored
        completed = [f for f in frames if f["type"] == "agent_completed"]
        assert len(completed) == 1
        assert completed[0]["payload"]["text"] == SLOW_ANSWER  # type: ignore[index]
        assert code == 1012


def test_servers_run_on_uvloop() -> None:
    """`netra serve` runs its loop through run_loop: uvloop, as uvicorn would pick."""
    seen: list[str] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)

    run_loop(main())
    assert seen == ["uvloop"]


def test_a_started_server_freezes_what_startup_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a served process has started, the collector no longer scans what startup
    made, collects young objects less often and waits for messages being stored
    (docs/architecture.md, Performance)."""
    monkeypatch.setattr(CollectorHold, "in_server", False)  # restored after: a test process

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("no request is made")

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), lifespan="off", log_level="error")
    )
    seen: dict[str, object] = {}

    def started() -> None:
        seen["threshold"], seen["frozen"] = gc.get_threshold(), gc.get_freeze_count()
        seen["holds"] = CollectorHold.in_server
        server.should_exit = True

    before = gc.get_threshold()
    try:
        assert asyncio.run(serve_settled(server, started)) is True
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert seen["threshold"] == GC_THRESHOLD
    assert seen["holds"] is True
    assert isinstance(seen["frozen"], int)
    assert seen["frozen"] > 10_000


@pytest.mark.slow
async def test_an_idle_keep_alive_connection_outlives_uvicorns_default(server: Server) -> None:
    """A client (or nginx, which keeps its upstream connections 60 s) may reuse a
    connection idle for longer than uvicorn's default 5 s: the server keeps it, instead
    of closing it just as the next request goes out (no answer at all: a 502 behind a
    proxy, `ReadError` for a client)."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    request = f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    try:
        for _ in range(2):
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            await asyncio.sleep(6)  # idle, past uvicorn's default keep-alive timeout
        assert not reader.at_eof()
    finally:
        writer.close()
