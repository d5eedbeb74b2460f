"""The catalog in the chat API: GET /api/models by role, a thread's default model, a
message's own model, and `model_not_allowed` on REST and /ws."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.client import NetraClient, NetraError
from netra.service import build_app
from tests.support.apps import SettingsFactory
from tests.support.chat import Server, connect, recv_until, start_server, stop_server, wait_run

CATALOG = """
[[models]]
id = "fast"
label = "Fast"
provider = "builtin"
capabilities = ["tools"]
default = true

[[models]]
id = "staff"
label = "Staff only"
provider = "builtin"
roles = ["admin"]

[[models]]
id = "other"
label = "Other"
provider = "builtin"
roles = ["user"]
"""


@pytest.fixture
async def catalog_server(
    make_settings: SettingsFactory, database_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Server]:
    path = tmp_path / "models.toml"
    path.write_text(CATALOG, encoding="utf-8")
    chat = ChatComponent()
    settings = make_settings(**database_env, MODELS_FILE=str(path))
    server = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
    try:
        yield server
    finally:
        await stop_server(server)


def not_allowed(model: str) -> str:
    return f"model {model!r} is not one you may use; GET /api/models lists them"


def refusal(model: str) -> dict[str, object]:
    return {"detail": {"reason": "model_not_allowed", "message": not_allowed(model)}}


async def started_model(server: Server, thread_id: str, run_id: str) -> str:
    async with server.http("alice") as client:
        events = (await client.get(f"/api/threads/{thread_id}/events")).json()["items"]
    [started] = [e for e in events if e["type"] == "agent_started" and e["run_id"] == run_id]
    return str(started["payload"]["model"])


async def test_models_threads_and_messages(catalog_server: Server) -> None:
    server = catalog_server
    async with server.http(None) as anonymous:
        assert (await anonymous.get("/api/models")).status_code == 401
    async with server.http("alice") as client:
        listed = await client.get("/api/models")
        assert listed.status_code == 200
        assert listed.json() == [
            {"id": "fast", "label": "Fast", "capabilities": ["tools"], "default": True},
            {"id": "other", "label": "Other", "capabilities": [], "default": False},
        ]

        for model in ("staff", "nope", "../fast"):
            refused = await client.post("/api/threads", json={"title": "t", "model": model})
            assert refused.status_code == 403, refused.text
            assert refused.json() == refusal(model)
        too_long = await client.post("/api/threads", json={"model": "x" * 65})
        assert too_long.status_code == 422

        created = await client.post("/api/threads", json={"title": "t", "model": "other"})
        assert created.status_code == 201
        assert created.json()["model"] == "other"
        tid = created.json()["id"]

        posted = (await client.post(f"/api/threads/{tid}/messages", json={"text": "hi"})).json()
        run = await wait_run(server, "alice", posted["run_id"])
        assert (run["status"], run["model"]) == ("completed", "other")
        assert await started_model(server, tid, posted["run_id"]) == "other"

        body = {"text": "what is 2 + 3?", "model": "fast"}
        posted = (await client.post(f"/api/threads/{tid}/messages", json=body)).json()
        await wait_run(server, "alice", posted["run_id"])
        assert await started_model(server, tid, posted["run_id"]) == "fast"

        refused = await client.post(
            f"/api/threads/{tid}/messages", json={"text": "hi", "model": "staff"}
        )
        assert (refused.status_code, refused.json()) == (403, refusal("staff"))

        patched = await client.patch(f"/api/threads/{tid}", json={"model": None})
        assert (patched.json()["model"], patched.json()["title"]) == (None, "t")
        posted = (await client.post(f"/api/threads/{tid}/messages", json={"text": "x"})).json()
        await wait_run(server, "alice", posted["run_id"])
        assert await started_model(server, tid, posted["run_id"]) == "fast"

        refused = await client.patch(f"/api/threads/{tid}", json={"model": "staff"})
        assert (refused.status_code, refused.json()) == (403, refusal("staff"))
        renamed = await client.patch(f"/api/threads/{tid}", json={"title": "renamed"})
        assert (renamed.json()["title"], renamed.json()["model"]) == ("renamed", None)

    async with connect(server, "alice") as ws:
        await recv_until(ws, "hello")
        frame = {
            "type": "send_message",
            "id": "s1",
            "thread_id": tid,
            "text": "hi",
            "model": "staff",
        }
        await ws.send(json.dumps(frame))
        [*_, refused_ws] = await recv_until(ws, "error")
        assert refused_ws["payload"]["code"] == "model_not_allowed"
        assert refused_ws["payload"]["message"] == not_allowed("staff")
        assert refused_ws["payload"]["id"] == "s1"
        frame = {**frame, "id": "s2", "model": "other"}
        await ws.send(json.dumps(frame))
        acked = await recv_until(ws, "ack")
        run_id = acked[-1]["run_id"]
    await wait_run(server, "alice", run_id)
    assert await started_model(server, tid, run_id) == "other"


async def test_the_sdk_lists_models_and_picks_them(catalog_server: Server) -> None:
    server = catalog_server
    token = await server.users.token("alice")
    async with NetraClient(server.url, access_token=token) as netra:
        models = await netra.list_models()
        assert [(m.id, m.default) for m in models] == [("fast", True), ("other", False)]
        thread = await netra.create_thread("sdk", model="other")
        assert thread.model == "other"
        events = [event async for event in netra.ask(thread.id, "what is 6 * 7?", model="fast")]
        assert events[0].type == "agent_started"
        assert events[0].payload["model"] == "fast"
        assert "42" in events[-1].payload["text"]
        assert (await netra.set_thread_model(thread.id, None)).model is None
        with pytest.raises(NetraError) as refused:
            await netra.send(thread.id, "hi", model="staff")
        assert (refused.value.status, refused.value.reason) == (403, "model_not_allowed")
        assert refused.value.message == not_allowed("staff")


async def test_netra_chat_model_flag(catalog_server: Server) -> None:
    netra = Path(sys.executable).parent / "netra"
    token = await catalog_server.users.token("alice")
    env = {**os.environ, "NETRA_TOKEN": token}
    common = [str(netra), "chat", "--url", catalog_server.url, "-m", "what is 2 + 2?"]
    for model, code in (("other", 0), ("staff", 1)):
        process = await asyncio.create_subprocess_exec(
            *common,
            "--model",
            model,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == code, stderr.decode()
        if code == 0:  # `other` has no tools: the planner says what it could do with them
            assert stdout.decode().startswith("I'm Netra's built-in assistant")
        else:
            assert "'staff' is not one you may use" in stderr.decode()
