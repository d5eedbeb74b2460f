"""MCP tools in real runs of the backend: a model (scripted OpenAI-compatible server)
calls a declared server's tool; a server that is down is named by the run and warns in
readiness without failing it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.testing import ScriptedModelServer, answer_chunks, chunk
from tests.support.apps import SettingsFactory
from tests.support.chat import start_server, stop_server, wait_run
from tests.support.mcp import FAULT_SERVER


def models_file(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(
        f"""
[[models]]
id = "scripted"
provider = "openai"
base_url = "{base_url}"
capabilities = ["tools"]

[[mcp_servers]]
name = "fault"
transport = "stdio"
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(FAULT_SERVER))}]
tools = ["echo"]

[[mcp_servers]]
name = "ghost"
transport = "stdio"
command = "/nonexistent/mcp-server"
""",
        encoding="utf-8",
    )
    return path


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, object]:
    return {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


@pytest.mark.parametrize("database_env", ["sqlite"], indirect=True)
async def test_a_run_calls_an_mcp_tool_and_says_which_server_is_down(
    make_settings: SettingsFactory,
    database_env: dict[str, str],
    tmp_path: Path,
    scripted: ScriptedModelServer,
) -> None:
    settings = make_settings(
        **database_env,
        MODELS_FILE=str(models_file(tmp_path, scripted.base_url)),
        OPENAI_MAX_RETRIES="0",
    )
    chat = ChatComponent()
    server = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
    try:
        scripted.script(
            scripted.sse(
                [
                    chunk(tool_calls=[tool_call("call_1", "fault__echo", '{"text": "via mcp"}')]),
                    chunk(finish="tool_calls"),
                ]
            ),
            scripted.sse(answer_chunks("The tool said via mcp.")),
        )
        async with server.http("alice") as client:
            # (The scripted model server has no model list: `agent` fails, not the subject.)
            ready = await client.get("/health/ready")
            checks = ready.json()["checks"]
            assert checks["mcp:fault"]["status"] == "pass"
            assert checks["mcp:fault"]["output"] == "fault is up with 1 tools"
            assert checks["mcp:ghost"]["status"] == "warn"
            assert checks["mcp:ghost"]["output"].startswith("ghost is down: cannot start it")
            tid = (await client.post("/api/threads", json={"title": "t"})).json()["id"]
            posted = await client.post(f"/api/threads/{tid}/messages", json={"text": "echo it"})
            assert posted.status_code == 202, posted.text
            run = await wait_run(server, "alice", posted.json()["run_id"], timeout=30)
            assert run["status"] == "completed", run
            events = (await client.get(f"/api/threads/{tid}/events")).json()["items"]
            metrics = (await client.get("/metrics")).text
        offered = [tool["function"]["name"] for tool in scripted.requests[0]["tools"]]
        assert "fault__echo" in offered
        assert not any(name.startswith("ghost__") for name in offered)
        by_type = {event["type"]: event["payload"] for event in events}
        assert by_type["agent_started"] == {"provider": "openai", "model": "scripted"}
        thinking = [e["payload"]["text"] for e in events if e["type"] == "agent_thinking"]
        assert any(text.startswith("The MCP server ghost is unavailable") for text in thinking)
        assert by_type["tool_executing"]["tool"] == "fault__echo"
        assert by_type["tool_completed"]["result"] == "via mcp"
        assert by_type["tool_completed"]["error"] is None
        assert by_type["agent_completed"]["text"] == "The tool said via mcp."
        assert 'netra_tool_calls_total{outcome="ok",server="fault"} 1.0' in metrics
        follow_up = scripted.requests[1]["messages"][-1]
        assert follow_up == {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": json.dumps({"result": "via mcp"}),
        }
    finally:
        await stop_server(server)
