"""Every declared MCP server's connection, and its tools kept in the process's one tool
registry: added when listed, withdrawn when the server goes down or renames them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from netra.agents.catalog.schema import McpServerEntry
from netra.agents.mcp.connection import DEFAULT_TIMING, McpConnection, Timing
from netra.agents.tools import ToolRegistry

log = logging.getLogger("netra.agents.mcp")


class McpManager:
    def __init__(
        self,
        servers: Sequence[McpServerEntry],
        secrets: Mapping[str, str],
        registry: ToolRegistry,
        timing: Timing = DEFAULT_TIMING,
    ) -> None:
        self.registry = registry
        self.connections = {
            entry.name: McpConnection(entry, dict(secrets), self._sync, timing) for entry in servers
        }
        self._registered: dict[str, set[str]] = {name: set() for name in self.connections}
        # Names left out because another tool holds them, by server (the run says so).
        self.collisions: dict[str, list[str]] = {name: [] for name in self.connections}

    async def start(self, wait: float = 10.0) -> None:
        """Connect every server; wait up to `wait` seconds for their first listing (a
        slower one joins later, its tools appearing when it is up)."""
        for connection in self.connections.values():
            connection.start()
        firsts = [
            asyncio.create_task(connection.wait_first_attempt())
            for connection in self.connections.values()
        ]
        if firsts:
            _, pending = await asyncio.wait(firsts, timeout=wait)
            for task in pending:
                task.cancel()

    async def stop(self) -> None:
        await asyncio.gather(*(connection.stop() for connection in self.connections.values()))

    def notices(self) -> list[str]:
        """What a run should say about MCP tools it cannot have."""
        notes = []
        for connection in self.connections.values():
            if not connection.up:
                notes.append(
                    f"The MCP server {connection.name} is unavailable ({connection.error}); "
                    "its tools are left out of this answer."
                )
            for name in self.collisions[connection.name]:
                notes.append(f"The tool {name} is left out: another tool already has that name.")
        return notes

    def _sync(self, connection: McpConnection) -> None:
        """Make the registry hold exactly this server's current tools."""
        name = connection.name
        for tool_name in self._registered[name]:
            self.registry.remove(tool_name)
        registered: set[str] = set()
        collisions: list[str] = []
        for tool in connection.tools.values():
            if self.registry.get(tool.name) is not None:
                collisions.append(tool.name)
                log.warning("MCP server %s: %s collides with another tool", name, tool.name)
                continue
            self.registry.add(tool)
            registered.add(tool.name)
        self._registered[name] = registered
        self.collisions[name] = collisions
