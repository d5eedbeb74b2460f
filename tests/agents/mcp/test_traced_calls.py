"""With tracing on, a tool call to a streamable-HTTP MCP server carries the run's trace:
the POST has a `traceparent` naming the HTTP client span, which descends from the tool
call's `execute_tool <name>` span, and the JSON-RPC request's `_meta` carries the trace
too (SEP-414, the SDK's; the only carrier a stdio server gets). The server is an
SDK-written one in this process that records what each call arrived with; the client
records spans in its own process (tests/agents/mcp/traced_call.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import types
from mcp.server.lowlevel import Server
from starlette.applications import Starlette

from netra.testing import AppServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


def recording_server(seen: list[dict[str, Any]]) -> Starlette:
    """An MCP server with one tool, `echo`, noting each call's headers and `_meta`."""

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}}
        return types.ListToolsResult(tools=[types.Tool(name="echo", input_schema=schema)])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        seen.append(
            {
                "traceparent": ctx.request.headers.get("traceparent"),
                "meta": dict((ctx.params or {}).get("_meta") or {}),
            }
        )
        text = str((params.arguments or {}).get("text"))
        return types.CallToolResult(content=[types.TextContent(text=text)])

    server = Server("recorder", on_list_tools=list_tools, on_call_tool=call_tool)
    return server.streamable_http_app()


def ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[str]:
    names = []
    while span["parent_id"] in by_id:
        span = by_id[span["parent_id"]]
        names.append(span["name"])
    return names


async def test_an_mcp_tool_call_over_http_carries_the_runs_trace(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    spans_file = tmp_path / "spans.jsonl"
    async with AppServer(recording_server(seen)) as server:
        # In a thread: this loop serves the MCP server meanwhile.
        done = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "tests.agents.mcp.traced_call",
                str(spans_file),
                f"{server.url}/mcp",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "traced"
    spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    by_id = {span["span_id"]: span for span in spans}
    run = next(s for s in spans if s["name"] == "invoke_agent test")
    tool = next(s for s in spans if s["name"] == "execute_tool recorder__echo")
    assert tool["trace_id"] == run["trace_id"]

    [call] = seen
    assert call["traceparent"] is not None, "the tools/call POST came without traceparent"
    _, trace_id, parent_id, _ = call["traceparent"].split("-")
    assert trace_id == run["trace_id"]
    http = by_id[parent_id]
    assert http["kind"] == "CLIENT"
    assert http["attributes"].get("http.request.method", http["attributes"].get("http.method"))
    assert "execute_tool recorder__echo" in ancestors(http, by_id)

    _, meta_trace, meta_parent, _ = call["meta"]["traceparent"].split("-")
    assert meta_trace == run["trace_id"]
    assert "execute_tool recorder__echo" in ancestors(by_id[meta_parent], by_id)
    assert "traced" not in json.dumps([s["attributes"] for s in spans])
