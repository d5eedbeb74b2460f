"""MCP: the declared servers' tools as Netra tools (client sessions, supervised).
See docs/agents.md."""

from netra.agents.mcp.connection import McpConnection, Timing
from netra.agents.mcp.manager import McpManager
from netra.agents.mcp.tools import McpTool, result_text

__all__ = ["McpConnection", "McpManager", "McpTool", "Timing", "result_text"]
