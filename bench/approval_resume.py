"""Time from a tool approval to the resumed run's next event, against a plain message's
`send_message` → `agent_started` measured in the same run.

The embedded app (SQLite) in this process, a scripted OpenAI-compatible model calling
`echo` of an SDK MCP server over stdio (bench/mcp_echo_server.py, `requires_approval`),
one socket. Each round: the model asks, the run pauses (`approval_required`, no task
held), the bench sends `approve_tool` and times `approval_resolved` (the claim, the run
resumed, its first event) and `tool_completed` (the tool called through MCP as well).
Usage: uv run python bench/approval_resume.py [rounds]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Service, load_settings
from netra.testing import AppServer, ScriptedModelServer, Users, answer_chunks, chunk

SERVER = str(Path(__file__).with_name("mcp_echo_server.py"))


def models_file(folder: Path, base_url: str) -> Path:
    path = folder / "models.toml"
    path.write_text(
        f"""
[[models]]
id = "scripted"
provider = "openai"
base_url = "{base_url}"
capabilities = ["tools"]

[[mcp_servers]]
name = "bench"
transport = "stdio"
command = {json.dumps(sys.executable)}
args = [{json.dumps(SERVER)}]
requires_approval = ["echo"]
""",
        encoding="utf-8",
    )
    return path


async def until(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == "error":
            raise RuntimeError(message["payload"])
        if message["type"] == kind:
            return dict(message)


def line(label: str, samples: list[float], baseline: float) -> str:
    p50 = statistics.median(samples)
    ratio = f"{p50 / baseline:6.1f}x the baseline" if baseline else ""
    return f"{label:<44} p50 {p50:8.2f} ms   max {max(samples):8.2f} ms   {ratio}"


def tool_call(call_id: str) -> dict[str, Any]:
    arguments = json.dumps({"text": "x"})
    return {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": "bench__echo", "arguments": arguments},
    }


def send(thread_id: str, text: str) -> str:
    return json.dumps({"type": "send_message", "thread_id": thread_id, "text": text})


async def rounds(
    url: str, token: str, model: ScriptedModelServer, threads: dict[str, str], count: int
) -> None:
    ws_url = url.replace("http", "ws", 1) + "/ws"
    protocols: Any = ["netra.v1", f"bearer.{token}"]
    plain: list[float] = []
    resolved: list[float] = []
    completed: list[float] = []
    async with websockets.connect(ws_url, subprotocols=protocols) as ws:
        await until(ws, "hello")
        for index in range(count):
            model.script(model.sse(answer_chunks("Plain.")))
            began = time.perf_counter()
            await ws.send(send(threads["plain"], "hi"))
            await until(ws, "agent_started")
            plain.append((time.perf_counter() - began) * 1000)
            await until(ws, "agent_completed")

            call_id = f"c{index}"
            model.script(
                model.sse([chunk(tool_calls=[tool_call(call_id)]), chunk(finish="tool_calls")]),
                model.sse(answer_chunks("Done.")),
            )
            await ws.send(send(threads["tools"], "echo"))
            asked = await until(ws, "approval_required")
            answer = {"type": "approve_tool", "run_id": asked["run_id"], "call_id": call_id}
            began = time.perf_counter()
            await ws.send(json.dumps({**answer, "approved": True}))
            await until(ws, "approval_resolved")
            resolved.append((time.perf_counter() - began) * 1000)
            await until(ws, "tool_completed")
            completed.append((time.perf_counter() - began) * 1000)
            await until(ws, "agent_completed")
    baseline = statistics.median(plain)
    print(line("baseline: send_message → agent_started", plain, 0.0))
    print(line("approve_tool → approval_resolved (resumed)", resolved, baseline))
    print(line("approve_tool → tool_completed (via MCP)", completed, baseline))


async def main(count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="netra-bench-approvals-"))
    async with ScriptedModelServer() as model:
        settings = load_settings(
            list(Service),
            {
                "ENVIRONMENT": "test",
                "DATA_DIR": str(folder / "data"),
                "DATABASE_URL": f"sqlite:///{folder / 'netra.db'}",
                "MODELS_FILE": str(models_file(folder, model.base_url)),
                "OPENAI_MAX_RETRIES": "0",
                "CHAT_RATE_LIMIT": "1000000",
            },
            cwd=folder,
        )
        async with AppServer(build_app(settings, [AuthComponent(), ChatComponent()])) as server:
            token = await Users(server.url).token("bench")
            headers = {"Authorization": f"Bearer {token}"}
            threads = {}
            async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
                for name in ("plain", "tools"):
                    created = await client.post("/api/threads", json={"title": name})
                    threads[name] = str(created.json()["id"])
            await rounds(server.url, token, model, threads, count)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
