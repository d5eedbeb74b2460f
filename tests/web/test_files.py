"""Files in the browser against `netra up`: a file attached with the composer's button
and one dropped on it are sent with the message, the model (scripted) searches them with
`search_documents`, the answer cites the file, and the message's chip downloads it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from netra.testing import ScriptedModelServer, answer_chunks, chunk
from tests.support.web import NetraFactory, Pages, ask, sign_up

pytestmark = pytest.mark.slow


@pytest.fixture
def llm() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer().in_thread() as server:
        yield server


def search_call(query: str) -> list[dict[str, object]]:
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "search_documents", "arguments": json.dumps({"query": query})},
    }
    return [chunk(tool_calls=[call]), chunk(finish="tool_calls")]


def test_a_file_is_uploaded_asked_about_cited_and_downloaded(
    start_netra: NetraFactory, llm: ScriptedModelServer, pages: Pages, tmp_path: Path
) -> None:
    netra = start_netra(
        AGENT_PROVIDER="openai",
        OPENAI_BASE_URL=llm.base_url,
        OPENAI_API_KEY="sk-fake",
        OPENAI_MAX_RETRIES="0",
    )
    llm.script(
        llm.sse(answer_chunks("Hello.")),
        llm.sse(search_call("gate code")),
        llm.sse(answer_chunks("The gate code is 4711 (gate.txt).")),
    )
    notes = tmp_path / "gate.txt"
    notes.write_text("Visitors: the gate code is 4711.\n", encoding="utf-8")
    page = pages.new()
    sign_up(page, netra.url, "files@example.com")
    ask(page, "hello")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("Hello.")

    page.locator("#attach-input").set_input_files(str(notes))
    pending = page.locator(".composer .attachments.pending .attachment")
    expect(pending).to_contain_text("gate.txt")
    dropped = page.evaluate_handle(
        "() => { const dt = new DataTransfer();"
        " dt.items.add(new File(['dropped words'], 'dropped.md')); return dt; }"
    )
    page.locator(".composer").dispatch_event("drop", {"dataTransfer": dropped})
    expect(pending).to_have_count(2)
    ask(page, "what is the gate code?")

    sent = page.locator(".turn-user").last
    expect(sent.locator("a.attachment")).to_have_count(2)
    expect(sent.locator("a.attachment").first).to_contain_text("gate.txt")
    expect(page.locator(".composer .attachments.pending .attachment")).to_have_count(0)
    tool = page.locator(".turn-agent .timeline").last.locator(".step-tool.done")
    expect(tool).to_contain_text("search_documents")
    expect(tool).to_contain_text("gate.txt")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("4711 (gate.txt)")
    told = llm.requests[1]["messages"][-1]["content"]
    assert "the gate code is 4711" in told  # a small file goes whole into the context

    with page.expect_download() as download:
        sent.locator("a.attachment").first.click()
    assert download.value.suggested_filename == "gate.txt"
    saved = tmp_path / "downloaded.txt"
    download.value.save_as(saved)
    assert saved.read_bytes() == notes.read_bytes()

    page.reload()
    expect(page.locator(".turn-user").last.locator("a.attachment")).to_have_text(
        [re.compile("gate.txt"), re.compile("dropped.md")]
    )
