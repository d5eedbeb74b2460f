"""Running an app under uvicorn, and telling the person at the terminal where it is."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import uvicorn
from fastapi import FastAPI

from netra.collector import settle_heap
from netra.runtime import runtime_of
from netra.ws_protocol import LeanWebSocketProtocol

try:
    import uvloop
except ImportError:  # pragma: no cover - platforms without uvloop (Windows)
    uvloop = None  # type: ignore[assignment]

log = logging.getLogger("netra.serving")
Drain = Callable[[], Awaitable[None]]

# How every server of ours speaks HTTP and WebSocket (`netra serve`/`up`, the tests'
# AppServer, the benches): permessage-deflate costs ~44 KB of zlib state per socket for
# ~200-byte JSON frames that barely compress, so it is off; uvicorn's protocol keeps less
# per idle socket (netra.ws_protocol, bench/ws_memory.py). An idle keep-alive connection
# is kept longer than a proxy keeps its own to us (nginx: 60 s): with uvicorn's 5 s, a
# client or proxy reusing a connection just as the server closed it got no answer (a
# 502 behind nginx; `ReadError` for a few of bench/ws_latency.py's users on SQLite).
SERVER_OPTIONS: dict[str, Any] = {
    "ws": LeanWebSocketProtocol,
    "ws_max_size": 1 << 20,
    "ws_per_message_deflate": False,
    "timeout_keep_alive": 75,
}


async def serve_settled(
    server: uvicorn.Server, on_started: Callable[[], None] | None = None
) -> bool:
    """Run `server` until it stops; once it has started, `settle_heap` and then
    `on_started`. False if it never started."""
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
        await asyncio.sleep(0.02)
    if server.started:
        settle_heap()
        if on_started is not None:
            on_started()
    await task
    return bool(server.started)


def run_loop(main: Coroutine[Any, Any, object]) -> None:
    """Run a server's `main` on uvloop where it is installed (it is with uvicorn's
    `standard` extra; uvicorn picks it too when it owns the loop): the event loop's own
    work is a large share of a busy backend's time (docs/architecture.md, Performance)."""
    if uvloop is None:  # pragma: no cover - platforms without uvloop (Windows)
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


class PortUnavailable(Exception):
    """The address cannot be listened on; the message says which and what to do."""


def check_port(host: str, port: int) -> None:
    """Fail in words, before any startup work, when the address is taken or not ours
    (uvicorn would only exit from inside its startup with a traceback)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise PortUnavailable(
                f"cannot listen on {host}:{port}: {reason}. Is another program (or another "
                "Netra) using it? Stop it, or choose another port with --port."
            ) from None


class DrainingServer(uvicorn.Server):
    """uvicorn, except that stopping (SIGTERM, Ctrl-C) first stops listening and lets
    the app finish what it started while its connections are still open (`drain`: an
    agent run answers on the socket that asked, not into a closed one), and only then
    closes them, WebSockets with 1012. A second Ctrl-C cuts the wait short."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        draining = asyncio.ensure_future(self.drain())
        while not draining.done() and not self.force_exit:
            await asyncio.wait({draining}, timeout=0.1)
        if not draining.done():
            draining.cancel()
        elif (failed := draining.exception()) is not None:
            log.error("draining failed; closing connections anyway: %r", failed)
        await super().shutdown(sockets)


async def serve(
    app: FastAPI, host: str, port: int, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve until interrupted; `on_ready(url)` once startup has completed."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        lifespan="on",
        proxy_headers=False,
        **SERVER_OPTIONS,
    )
    server = DrainingServer(config, runtime_of(app).drain)
    display_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
    ready = None if on_ready is None else lambda: on_ready(f"http://{display_host}:{port}")
    if not await serve_settled(server, ready) and not server.should_exit:
        raise SystemExit(3)
