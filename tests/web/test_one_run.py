"""One run per thread in the browser: a message sent while the answer is still coming is
refused with the reason, and "Stop it and send" interrupts that answer and sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from netra.testing import ScriptedModelServer
from tests.support.model_answers import prompted_model
from tests.support.web import NetraFactory, Pages, ask, sign_up

pytestmark = pytest.mark.slow


@pytest.fixture
def llm() -> Iterator[ScriptedModelServer]:
    with prompted_model().in_thread() as server:
        yield server


def test_a_message_during_an_answer_can_interrupt_it(
    start_netra: NetraFactory, llm: ScriptedModelServer, pages: Pages
) -> None:
    netra = start_netra(
        AGENT_PROVIDER="openai", OPENAI_BASE_URL=llm.base_url, OPENAI_MAX_RETRIES="0"
    )
    page = pages.new()
    sign_up(page, netra.url, "busy@example.com")
    ask(page, "something slow please")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("word02")
    ask(page, "never mind, hello")
    error = page.locator(".composer .error")
    expect(error).to_contain_text("is still answering in this thread")
    page.get_by_role("button", name="Stop it and send").click()
    expect(page.locator(".turn-agent")).to_have_count(2)
    expect(page.locator(".turn-agent").first.locator(".step-error")).to_contain_text(
        "interrupted by a newer message"
    )
    expect(page.locator(".turn-agent").last.locator(".step-completed")).to_have_count(1)
    expect(error).to_be_hidden()
    expect(page.get_by_label("Message", exact=True)).to_have_value("")
