"""A run has its thread's assistant: its instructions are the system prompt the model
server receives, only its tools are offered, and a call to another tool ends in a tool
error while the run goes on. Usage rows name the assistant.

Hostile case: a model that calls a tool its assistant was not given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from netra.agents.builtin_tools import BUILTIN_TOOL_NAMES
from netra.agents.providers.openai import SYSTEM_PROMPT
from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.testing import ScriptedModelServer, answer_chunks, chunk
from netra.usage.models import RunUsage
from tests.support.apps import SettingsFactory
from tests.support.chat import Server, start_server, stop_server, wait_run

COUNTER = "You only count. Answer with digits."
CATALOG = """
[[models]]
id = "scripted"
provider = "openai"
base_url = "{url}"
model = "served"
capabilities = ["tools"]

[[assistants]]
id = "counter"
name = "Counter"
instructions = "{instructions}"
tools = ["calculator"]
starters = ["Count to 3"]
"""


@pytest.fixture
async def model_server() -> AsyncIterator[ScriptedModelServer]:
    async with ScriptedModelServer() as server:
        server.default = server.sse(answer_chunks("ok"))
        yield server


@pytest.fixture
async def served(
    make_settings: SettingsFactory,
    database_env: dict[str, str],
    tmp_path: Path,
    model_server: ScriptedModelServer,
) -> AsyncIterator[Server]:
    path = tmp_path / "models.toml"
    catalog = CATALOG.format(url=model_server.base_url, instructions=COUNTER)
    path.write_text(catalog, encoding="utf-8")
    chat = ChatComponent()
    settings = make_settings(**database_env, MODELS_FILE=str(path))
    server = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
    try:
        yield server
    finally:
        await stop_server(server)


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def offered(request: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in request.get("tools", [])]


async def ask(server: Server, body: dict[str, Any], text: str) -> tuple[str, str]:
    """A thread made with `body`, asked `text`; its id and the finished run's."""
    async with server.http("alice") as client:
        created = await client.post("/api/threads", json=body)
        assert created.status_code == 201, created.text
        tid = created.json()["id"]
        posted = await client.post(f"/api/threads/{tid}/messages", json={"text": text})
        assert posted.status_code == 202, posted.text
    run = await wait_run(server, "alice", posted.json()["run_id"])
    assert run["status"] == "completed", run
    return tid, str(run["id"])


async def usage_assistant(server: Server, run_id: str) -> str | None:
    async with server.backend.runtime.db() as session:
        return await session.scalar(select(RunUsage.assistant).where(RunUsage.run_id == run_id))


async def test_a_run_has_its_assistants_instructions_and_only_its_tools(
    served: Server, model_server: ScriptedModelServer
) -> None:
    model_server.script(
        model_server.sse(
            [
                chunk(tool_calls=[tool_call("call_1", "current_time", "{}")]),
                chunk(finish="tool_calls"),
            ]
        ),
        model_server.sse(answer_chunks("3")),
    )
    tid, run_id = await ask(served, {"assistant_id": "counter"}, "what time is it?")

    first, second = model_server.requests
    assert first["messages"][0] == {"role": "system", "content": COUNTER}
    assert offered(first) == ["calculator"]
    async with served.http("alice") as client:
        events = (await client.get(f"/api/threads/{tid}/events")).json()["items"]
    [completed] = [e["payload"] for e in events if e["type"] == "tool_completed"]
    assert completed["tool"] == "current_time"
    assert completed["error"] == "Unknown tool 'current_time'; available tools: calculator."
    assert second["messages"][-1]["role"] == "tool"
    assert "Unknown tool 'current_time'" in second["messages"][-1]["content"]
    assert await usage_assistant(served, run_id) == "counter"


async def test_personal_and_builtin_assistants_in_runs(
    served: Server, model_server: ScriptedModelServer
) -> None:
    async with served.http("alice") as client:
        made = await client.post(
            "/api/assistants", json={"name": "Poet", "instructions": "Answer in verse."}
        )
        assert made.status_code == 201, made.text
    poet = made.json()["id"]
    _, run_id = await ask(served, {"assistant_id": poet}, "hello")
    [request] = model_server.requests
    assert request["messages"][0] == {"role": "system", "content": "Answer in verse."}
    assert "tools" not in request  # given none: offered none
    assert await usage_assistant(served, run_id) == poet

    _, run_id = await ask(served, {}, "hello")
    request = model_server.requests[-1]
    assert request["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert offered(request) == list(BUILTIN_TOOL_NAMES)
    assert await usage_assistant(served, run_id) == "builtin"
