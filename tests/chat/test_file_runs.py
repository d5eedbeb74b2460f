"""Files in the runs that answer about them, through a scripted OpenAI-compatible model:
small text whole in the request, images as image parts for a model with `vision` and a
note for one without, and `search_documents` finding passages of the user's files (this
thread's first, never another user's) with the file name and page to cite."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.testing import ScriptedModelServer, answer_chunks, chunk
from netra.testing.pdfs import text_pdf
from tests.support.apps import SettingsFactory
from tests.support.chat import ALICE, Server, start_server, stop_server, wait_run

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def models_file(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(
        f"""
[[models]]
id = "seeing"
provider = "openai"
base_url = "{base_url}"
capabilities = ["tools", "vision"]

[[models]]
id = "blind"
provider = "openai"
base_url = "{base_url}"
capabilities = ["tools"]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def model() -> AsyncIterator[ScriptedModelServer]:
    async with ScriptedModelServer() as server:
        yield server


@pytest.fixture
async def files_server(
    make_settings: SettingsFactory,
    database_env: dict[str, str],
    tmp_path: Path,
    model: ScriptedModelServer,
) -> AsyncIterator[Server]:
    settings = make_settings(
        **database_env,
        MODELS_FILE=str(models_file(tmp_path, model.base_url)),
        OPENAI_MAX_RETRIES="0",
        FILE_CONTEXT_CHARS="100",
    )
    chat = ChatComponent()
    server = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
    try:
        yield server
    finally:
        await stop_server(server)


async def thread_with(
    server: Server, user: str, *files: tuple[str, bytes]
) -> tuple[str, list[str]]:
    async with server.http(user) as client:
        thread = (await client.post("/api/threads", json={"title": "t"})).json()["id"]
        ids = []
        for name, data in files:
            answer = await client.post(f"/api/threads/{thread}/files", files={"file": (name, data)})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
    return thread, ids


async def ask(server: Server, thread: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    async with server.http(ALICE) as client:
        posted = await client.post(f"/api/threads/{thread}/messages", json=body)
        assert posted.status_code == 202, posted.text
        run = await wait_run(server, ALICE, posted.json()["run_id"], timeout=30)
        assert run["status"] == "completed", run
        events: list[dict[str, Any]] = (await client.get(f"/api/threads/{thread}/events")).json()[
            "items"
        ]
    return events


async def test_small_text_goes_whole_and_images_as_parts_for_vision_only(
    files_server: Server, model: ScriptedModelServer
) -> None:
    thread, (note, image, long) = await thread_with(
        files_server,
        ALICE,
        ("note.txt", b"The gate code is 4711."),
        ("cat.png", PNG),
        ("long.txt", b"word " * 100),
    )
    model.script(model.sse(answer_chunks("I see it.")), model.sse(answer_chunks("I cannot.")))
    ids = [note, image, long]
    await ask(files_server, thread, {"text": "what is this?", "model": "seeing", "file_ids": ids})
    await ask(files_server, thread, {"text": "and now?", "model": "blind", "file_ids": [image]})

    seeing = model.requests[0]["messages"][-1]["content"]
    assert isinstance(seeing, list)
    text, picture = seeing
    assert "The gate code is 4711." in text["text"]
    assert "'long.txt'" in text["text"]
    assert "search_documents" in text["text"]
    encoded = base64.b64encode(PNG).decode()
    assert picture == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{encoded}"},
    }

    blind = model.requests[1]["messages"][-1]["content"]
    assert isinstance(blind, str)
    assert "'cat.png'" in blind
    assert "cannot see" in blind
    assert "base64" not in json.dumps(model.requests[1])


def search_call(query: str) -> list[dict[str, Any]]:
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "search_documents", "arguments": json.dumps({"query": query})},
    }
    return [chunk(tool_calls=[call]), chunk(finish="tool_calls")]


async def test_search_documents_finds_this_threads_passages_first_with_what_to_cite(
    files_server: Server, model: ScriptedModelServer
) -> None:
    manual = text_pdf(["Contents.", "The lighthouse lamp is cleaned every Tuesday."])
    thread, _ = await thread_with(files_server, ALICE, ("manual.pdf", manual))
    await thread_with(files_server, ALICE, ("older.txt", b"A lighthouse stood here in 1850."))
    await thread_with(files_server, "bob", ("bob.txt", b"Bob's lighthouse secret."))
    model.script(
        model.sse(search_call("lighthouse")),
        model.sse(answer_chunks("Every Tuesday (manual.pdf, p. 2).")),
    )
    events = await ask(files_server, thread, {"text": "when is the lamp cleaned?"})

    offered = [tool["function"]["name"] for tool in model.requests[0]["tools"]]
    assert "search_documents" in offered
    done = next(e["payload"] for e in events if e["type"] == "tool_completed")
    assert done["error"] is None
    found = [(hit["file_name"], hit["page"], hit["this_thread"]) for hit in done["result"]]
    assert found == [("manual.pdf", 2, True), ("older.txt", None, False)]
    assert "cleaned every Tuesday" in done["result"][0]["passage"]
    assert done["result"][0]["cite_as"] == "manual.pdf, p. 2"
    told = model.requests[1]["messages"][-1]
    assert told["role"] == "tool"
    assert "manual.pdf" in told["content"]
