"""Netra as an MCP server: `/mcp` (streamable HTTP) with a person's threads, search and
assistants as tools (docs/agents.md, "Netra as an MCP server")."""

from netra.chat.mcp_server.endpoint import PATH, McpEndpoint

__all__ = ["PATH", "McpEndpoint"]
