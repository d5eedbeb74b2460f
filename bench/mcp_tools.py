"""Overhead of a tool call through MCP against the same function called in-process.

Each call goes through the one ToolRegistry (argument validation, time limit, the
`tool_completed` event): once to an in-process `echo` tool (the baseline), once to the
same `echo` served by an SDK server over stdio and over streamable HTTP
(bench/mcp_echo_server.py), through Netra's supervised client session.
Usage: uv run python bench/mcp_tools.py [calls]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from agent_latency import SampleData
from common import wait_port
from netra.agents import RunContext, ToolRegistry
from netra.agents.catalog import McpServerEntry
from netra.agents.mcp import McpManager
from netra.testing import free_port

SERVER = str(Path(__file__).with_name("mcp_echo_server.py"))


async def measure(registry: ToolRegistry, name: str, calls: int) -> list[float]:
    context = RunContext("u1", "t1", "r1", SampleData())
    samples = []
    for index in range(calls):
        began = time.perf_counter()
        done = await registry.call(name, {"text": f"hello {index}"}, context, f"c{index}")
        samples.append((time.perf_counter() - began) * 1e6)
        assert done.result == f"hello {index}", done
    return samples


def line(label: str, samples: list[float], baseline: float) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    ratio = f"{p50 / baseline:7.1f}x" if baseline else ""
    return f"{label:<34} p50 {p50:9.1f} µs   p99 {p99:9.1f} µs   {ratio}  n={len(ordered)}"


async def main(calls: int) -> None:
    local = ToolRegistry()

    @local.tool
    async def echo(text: str) -> str:
        """Return the text."""
        return text

    port = free_port()
    http = await asyncio.create_subprocess_exec(
        sys.executable,
        SERVER,
        "http",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_port(port)
        servers = [
            McpServerEntry(name="stdio", transport="stdio", command=sys.executable, args=(SERVER,)),
            McpServerEntry(
                name="http",
                transport="streamable_http",
                url=f"http://127.0.0.1:{port}/mcp",  # type: ignore[arg-type]
            ),
        ]
        remote = ToolRegistry()
        manager = McpManager(servers, {}, remote)
        await manager.start(wait=60)
        try:
            assert manager.notices() == [], manager.notices()
            for registry, name in (
                (local, "echo"),
                (remote, "stdio__echo"),
                (remote, "http__echo"),
            ):
                await measure(registry, name, 50)  # warm-up
            baseline = await measure(local, "echo", calls)
            base_p50 = statistics.median(baseline)
            print(line("in-process function (baseline)", baseline, base_p50))
            print(line("MCP over stdio", await measure(remote, "stdio__echo", calls), base_p50))
            print(
                line(
                    "MCP over streamable HTTP", await measure(remote, "http__echo", calls), base_p50
                )
            )
        finally:
            await manager.stop()
    finally:
        http.terminate()
        await http.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
