"""Real MCP servers: the npm reference servers (installed here by the machine's npm on
first use, from tests/agents/mcp/servers/package-lock.json) and the SDK-written fault
server, behind Netra's `McpManager`."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from netra.agents import RunContext, ToolCompleted, ToolRegistry
from netra.agents.catalog import McpServerEntry
from netra.agents.mcp import McpManager, Timing
from tests.agents.conftest import make_context
from tests.processes import NetraProcess, free_port

HERE = Path(__file__).parent
PACKAGES = HERE / "servers"
CACHE = HERE.parents[1] / ".cache" / "mcp-servers"
FAULT_SERVER = HERE / "fault_server.py"
# Quick to notice a crash and to come back, so the tests wait little.
FAST = Timing(connect_timeout=30, ping_interval=0.3, ping_timeout=5, backoff_min=0.1)


def install_servers() -> Path:
    """`npm ci` into tests/.cache/mcp-servers unless that lock is installed already."""
    lock = (PACKAGES / "package-lock.json").read_text()
    installed = CACHE / "node_modules" / ".package-lock.json"
    if installed.exists() and (CACHE / "package-lock.json").read_text() == lock:
        return CACHE / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("the MCP tests need Node.js and npm (apt-get install nodejs npm)")
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PACKAGES / name, CACHE / name)
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=CACHE,
        check=True,
        timeout=300,
    )
    return CACHE / "node_modules"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    return install_servers()


def everything_js(node_modules: Path) -> str:
    return str(node_modules / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js")


def filesystem_js(node_modules: Path) -> str:
    return str(node_modules / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js")


def stdio_entry(name: str, command: str, *args: str, **fields: Any) -> McpServerEntry:
    return McpServerEntry(name=name, transport="stdio", command=command, args=args, **fields)


def fault_entry(**fields: Any) -> McpServerEntry:
    fields.setdefault("timeout", 2)
    return stdio_entry("fault", sys.executable, str(FAULT_SERVER), **fields)


@pytest.fixture
def everything_http(node_modules: Path, tmp_path: Path) -> Iterator[str]:
    """server-everything's streamable HTTP transport on a free port: its /mcp URL."""
    port = free_port()
    log = (tmp_path / "everything-http.log").open("w")
    env = {**os.environ, "PORT": str(port)}
    process = subprocess.Popen(
        ["node", everything_js(node_modules), "streamableHttp"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        NetraProcess.wait_until_listening(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()


@asynccontextmanager
async def managed(
    *entries: McpServerEntry,
    registry: ToolRegistry | None = None,
    secrets: dict[str, str] | None = None,
    timing: Timing = FAST,
) -> AsyncIterator[McpManager]:
    manager = McpManager(entries, secrets or {}, registry or ToolRegistry(), timing)
    await manager.start(wait=60)
    try:
        yield manager
    finally:
        await manager.stop()


async def eventually(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Wait for a condition the system reaches by itself (a restart, a re-listing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.05)


async def call(
    manager: McpManager,
    name: str,
    arguments: dict[str, Any] | str,
    context: RunContext | None = None,
) -> ToolCompleted:
    return await manager.registry.call(name, arguments, context or make_context(), "call-1")
