"""Shared bench helpers: a Netra backend process with a bench verifier, and clients."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from netra.agents.events import AgentCompleted, AgentEvent, AgentStarted, MessageDelta
from netra.agents.runtime import ChatTurn, RunContext
from netra.chat.component import ChatComponent, default_agent_factory
from netra.service import build_app
from netra.settings import Service, Settings, load_settings
from netra.tokens import Principal, TokenRejected

PAD = "x" * 60


class BenchVerifier:
    """Accepts `user.<id>`: the bench measures the stream, not token verification."""

    async def verify(self, token: str) -> Principal:
        kind, _, subject = token.partition(".")
        if kind != "user" or not subject:
            raise TokenRejected("malformed", "bench tokens look like user.<id>")
        return Principal(subject=subject, kind="access")


class EchoAgent:
    """Used only when netra.agents has no create_agent yet (reported in the output)."""

    name = "echo"

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        yield AgentStarted(provider=self.name)
        yield MessageDelta(text=message)
        yield AgentCompleted(text=message, duration_ms=0.0)


def agent_factory() -> tuple[object, str]:
    factory = default_agent_factory()
    if factory is not None:
        return factory, "builtin (netra.agents.create_agent)"
    return (lambda _settings: EchoAgent()), "echo stand-in (netra.agents.create_agent missing)"


def bench_settings(**env: str) -> Settings:
    data = Path(tempfile.mkdtemp(prefix="netra-bench-"))
    environ = {
        "ENVIRONMENT": "test",
        "DATA_DIR": str(data),
        "WS_MAX_CONNECTIONS": "100000",
        "WS_FRAME_RATE_LIMIT": "1000000",
        "CHAT_RATE_LIMIT": "1000000",
        "WS_QUEUE_SIZE": "100000",
        **{k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "REDIS_URL")},
        **env,
    }
    return load_settings([Service.BACKEND], environ, cwd=data)


def netra_app(settings: Settings) -> tuple[FastAPI, ChatComponent, str]:
    factory, agent_name = agent_factory()
    component = ChatComponent(agent_factory=factory)  # type: ignore[arg-type]
    app = build_app(settings, [component])
    app.state.runtime.verifier = BenchVerifier()
    return app, component, agent_name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_forever(app: object, port: int) -> None:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="on",
        ws_max_size=1 << 20,
        backlog=4096,
    )
    asyncio.run(uvicorn.Server(config).serve())


def rss_kb(pid: int | None = None) -> int:
    with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def spawn(*args: str) -> asyncio.Future[asyncio.subprocess.Process]:
    here = Path(__file__).resolve().parent
    return asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=here.parent,
            env={**os.environ, "PYTHONPATH": str(here.parent)},
        )
    )


def event_body(i: int) -> str:
    return json.dumps({"i": i, "t": time.time(), "pad": PAD})
