"""An MCP server (the SDK's low-level `Server`, over stdio) that misbehaves on demand:
slow, never answering, crashing mid-call, 5 MB results, a tool schema that is not JSON
Schema, a name models cannot take, an `isError` result, and renaming its tools."""

from __future__ import annotations

import os
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.stdio import stdio_server

HUGE = 5 * 1024 * 1024
state = {"renamed": False}


def _tool(name: str, properties: dict[str, Any] | None = None, **schema: Any) -> types.Tool:
    input_schema = {"type": "object", "properties": properties or {}, **schema}
    return types.Tool(name=name, description=f"fault tool {name}", input_schema=input_schema)


def tools() -> list[types.Tool]:
    listed = [
        _tool(
            "echo2" if state["renamed"] else "echo", {"text": {"type": "string"}}, required=["text"]
        ),
        _tool("slow", {"seconds": {"type": "number", "minimum": 0}}, required=["seconds"]),
        _tool("never"),
        _tool("crash"),
        _tool("huge"),
        _tool("fails"),
        _tool("rename"),
        # Not JSON Schema: `minimum` must be a number.
        _tool("liar", {"n": {"type": "integer", "minimum": "zero"}}),
        _tool("bad.name"),
    ]
    return listed


def text(value: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=value)], is_error=error)


async def list_tools(
    ctx: Any, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=tools())


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    arguments = params.arguments or {}
    name = params.name
    if name in ("echo", "echo2") and name == ("echo2" if state["renamed"] else "echo"):
        return text(str(arguments["text"]))
    if name == "slow":
        await anyio.sleep(float(arguments["seconds"]))
        return text(f"done after {arguments['seconds']} s")
    if name == "never":
        await anyio.sleep_forever()
    if name == "crash":
        os._exit(3)
    if name == "huge":
        return text("x" * HUGE)
    if name == "fails":
        return text("the tool failed on purpose", error=True)
    if name == "rename":
        state["renamed"] = True
        await ctx.session.send_tool_list_changed()
        return text("renamed echo to echo2")
    raise ValueError(f"unknown tool {name}")


async def main() -> None:
    server = Server("fault", on_list_tools=list_tools, on_call_tool=call_tool)
    options = server.create_initialization_options(NotificationOptions(tools_changed=True))
    async with stdio_server() as (read, write):
        await server.run(read, write, options)


if __name__ == "__main__":
    anyio.run(main)
