"""MCP test helpers: the npm reference servers (installed by the machine's npm on first
use, from tests/agents/mcp/servers/package-lock.json, into tests/.cache/), the
SDK-written fault server, and Netra's `McpManager` around them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from netra.agents import RunContext, ToolCompleted, ToolRegistry
from netra.agents.catalog import McpServerEntry
from netra.agents.mcp import McpManager, Timing
from netra.testing import eventually
from tests.support.agents import make_context

TESTS = Path(__file__).resolve().parents[1]
PACKAGES = TESTS / "agents" / "mcp" / "servers"
CACHE = TESTS / ".cache" / "mcp-servers"
FAULT_SERVER = TESTS / "agents" / "mcp" / "fault_server.py"
# Quick to notice a crash and to come back, so the tests wait little.
FAST = Timing(connect_timeout=30, ping_interval=0.3, ping_timeout=5, backoff_min=0.1)


def install_servers() -> Path:
    """The reference servers' node_modules (tests/.cache/mcp-servers)."""
    return install_packages(PACKAGES, CACHE)


def install_packages(packages: Path, cache: Path) -> Path:
    """`npm ci` of `packages`' lock into `cache` unless that lock is installed already."""
    lock = (packages / "package-lock.json").read_text()
    installed = cache / "node_modules" / ".package-lock.json"
    if installed.exists() and (cache / "package-lock.json").read_text() == lock:
        return cache / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("the MCP tests need Node.js and npm (apt-get install nodejs npm)")
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(packages / name, cache / name)
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=cache,
        check=True,
        timeout=300,
    )
    return cache / "node_modules"


def everything_js(node_modules: Path) -> str:
    return str(node_modules / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js")


def filesystem_js(node_modules: Path) -> str:
    return str(node_modules / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js")


def stdio_entry(name: str, command: str, *args: str, **fields: Any) -> McpServerEntry:
    return McpServerEntry(name=name, transport="stdio", command=command, args=args, **fields)


def fault_entry(**fields: Any) -> McpServerEntry:
    fields.setdefault("timeout", 2)
    return stdio_entry("fault", sys.executable, str(FAULT_SERVER), **fields)


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


async def until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Wait for a state the system reaches by itself (a restart, a re-listing)."""

    async def check() -> bool | None:
        return True if condition() else None

    await eventually(check, timeout, what)


async def call(
    manager: McpManager,
    name: str,
    arguments: dict[str, Any] | str,
    context: RunContext | None = None,
) -> ToolCompleted:
    return await manager.registry.call(name, arguments, context or make_context(), "call-1")
