"""Netra's own MCP server (/mcp) against the REST route that runs the same backend
methods, measured in the same run: `read_thread` and `list_threads` through the SDK's
client (streamable HTTP, a JSON-RPC envelope, the SDK's validation, a fresh stateless
transport per request) against GET /api/threads/{id}/messages and GET /api/threads.

`netra up` runs in its own process with one thread of a few messages; calls are
sequential, one at a time, REST and MCP alternating, so the figures are latencies under
the same load (p50/p99, ratio of p50s).
Usage: uv run python bench/mcp_server.py [calls]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from common import start_up
from netra.testing import eventually, free_port

PASSWORD = "correct horse battery staple 42"
Call = Callable[[], Awaitable[object]]


async def timed(call: Call) -> float:
    began = time.perf_counter()
    await call()
    return (time.perf_counter() - began) * 1e6


async def measure(first: Call, second: Call, calls: int) -> tuple[list[float], list[float]]:
    """Both calls' latencies, alternated call by call so that both meet the same load."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(calls):
        samples[0].append(await timed(first))
        samples[1].append(await timed(second))
    return samples


def line(label: str, samples: list[float], baseline: float) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return f"{label:<42} p50 {p50:9.1f} µs   p99 {p99:9.1f} µs   {p50 / baseline:5.2f}x"


async def prepare(base: str) -> tuple[str, str]:
    """(an access token, the id of a thread with a few answered messages)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for _ in range(300):
            if (await http.get("/health/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        account = {"email": "bench@example.com", "password": PASSWORD}
        assert (await http.post("/auth/register", json=account)).status_code == 201
        token = (await http.post("/auth/login", json=account)).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        thread = (await http.post("/api/threads", json={"title": "bench"})).json()["id"]
        for index in range(3):
            text = {"text": f"hi {index}"}
            posted = await http.post(f"/api/threads/{thread}/messages", json=text)
            assert posted.status_code == 202, posted.text
            run = f"/api/runs/{posted.json()['run_id']}"

            async def ended(run: str = run) -> bool | None:
                status = (await http.get(run)).json()["status"]
                return True if status in ("completed", "failed") else None

            await eventually(ended, 60, f"{run} did not end")
    return token, thread


async def compare(base: str, token: str, thread: str, calls: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as rest,
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as mcp,
    ):
        await mcp.initialize()

        async def rest_messages() -> None:
            assert (await rest.get(f"/api/threads/{thread}/messages")).status_code == 200

        async def rest_threads() -> None:
            assert (await rest.get("/api/threads")).status_code == 200

        async def mcp_read() -> None:
            result = await mcp.call_tool("read_thread", {"thread_id": thread})
            assert not result.is_error, result.content

        async def mcp_list() -> None:
            assert not (await mcp.call_tool("list_threads", {})).is_error

        pairs = [
            ("GET /api/threads/{id}/messages", rest_messages, "MCP read_thread", mcp_read),
            ("GET /api/threads", rest_threads, "MCP list_threads", mcp_list),
        ]
        for rest_label, rest_call, mcp_label, mcp_call in pairs:
            await measure(rest_call, mcp_call, 30)  # warm-up
            baseline, through_mcp = await measure(rest_call, mcp_call, calls)
            base_p50 = statistics.median(baseline)
            print(line(f"{rest_label} (baseline)", baseline, base_p50))
            print(line(mcp_label, through_mcp, base_p50))


async def main(calls: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="netra-bench-mcp-server-"))
    port = free_port()
    server = await start_up(folder, port)
    try:
        base = f"http://127.0.0.1:{port}"
        token, thread = await prepare(base)
        await compare(base, token, thread, calls)
    finally:
        server.terminate()
        await server.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
