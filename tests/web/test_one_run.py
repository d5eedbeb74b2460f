"""One run per thread in the browser: a message sent while the answer is still coming is
refused with the reason, and "Stop it and send" interrupts that answer and sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NetraFactory, Pages, sign_up
from tests.web.fake_llm import FakeLLM
from tests.web.test_chat import ask, llm_settings

pytestmark = pytest.mark.slow


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def test_a_message_during_an_answer_can_interrupt_it(
    start_netra: NetraFactory, llm: FakeLLM, pages: Pages
) -> None:
    netra = start_netra(**llm_settings(llm))
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
