"""Tool approvals under test: a models file whose scripted model may call
server-everything's `echo` (marked `requires_approval`), the model's scripted turns,
and waiting for a run to pause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from netra.testing import ScriptedModelServer, answer_chunks, chunk, eventually
from tests.support.mcp import everything_js

ECHO = "everything__echo"


def models_file(tmp_path: Path, base_url: str, node_modules: Path) -> Path:
    """One scripted OpenAI-compatible model with tools, server-everything over stdio
    with `echo` (needs approval) and `get-sum` (does not)."""
    path = tmp_path / "models.toml"
    path.write_text(
        f"""
[[models]]
id = "scripted"
provider = "openai"
base_url = "{base_url}"
capabilities = ["tools"]

[[mcp_servers]]
name = "everything"
transport = "stdio"
command = "node"
args = [{json.dumps(everything_js(node_modules))}, "stdio"]
tools = ["echo", "get-sum"]
requires_approval = ["echo"]
""",
        encoding="utf-8",
    )
    return path


def tool_call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def script_echo(scripted: ScriptedModelServer, call_id: str, message: str, answer: str) -> None:
    """The model calls echo(message), then answers `answer` once it has the result."""
    scripted.script(
        scripted.sse(
            [
                chunk(tool_calls=[tool_call(call_id, ECHO, {"message": message})]),
                chunk(finish="tool_calls"),
            ]
        ),
        scripted.sse(answer_chunks(answer)),
    )


async def post_and_wait(client: httpx.AsyncClient, text: str = "echo it") -> tuple[str, str]:
    """A new thread, a message in it, and its run once `waiting`: (thread id, run id)."""
    tid = (await client.post("/api/threads", json={"title": "approvals"})).json()["id"]
    posted = await client.post(f"/api/threads/{tid}/messages", json={"text": text})
    assert posted.status_code == 202, posted.text
    run_id = str(posted.json()["run_id"])
    await until_status(client, run_id, "waiting")
    return str(tid), run_id


async def until_status(
    client: httpx.AsyncClient, run_id: str, status: str, timeout: float = 30
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        run: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        return run if run["status"] == status else None

    return await eventually(reached, timeout, f"run {run_id} never became {status}", 0.02)


async def events_of(client: httpx.AsyncClient, thread_id: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/api/threads/{thread_id}/events")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def assert_gap_free(events: list[dict[str, Any]]) -> None:
    """Seqs 1..n in order, one `agent_started` first and exactly one terminal event last."""
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    kinds = [event["type"] for event in events]
    assert kinds[0] == "agent_started"
    terminals = [kind for kind in kinds if kind in ("agent_completed", "agent_error")]
    assert len(terminals) == 1, kinds
    assert kinds[-1] == terminals[0], kinds
