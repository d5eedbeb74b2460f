"""The search box in a real browser against `netra up`: titles filter at once, messages
and answers come from `GET /api/search` with the matched words marked, and a result opens
its chat at that message."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from netra.testing import NetraProcess
from tests.support.web import Pages, ask, sign_up

pytestmark = pytest.mark.slow


def test_a_found_message_opens_its_chat_there(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    sign_up(page, netra.url, "searcher@example.com")
    ask(page, "remind me about the dentist appointment on Thursday")
    expect(page.locator(".turn-agent .answer").last).not_to_be_empty()
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_role("heading", name="New chat")).to_be_visible()
    ask(page, "what is 6 * 7?")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("42")

    box = page.get_by_label("Search chats and messages")
    box.fill("dentist")
    hit = page.locator(".hits .hit").first
    expect(hit).to_contain_text("You")
    expect(hit.locator("mark")).to_have_text("dentist")
    expect(page.get_by_role("status").filter(has_text="found")).to_be_visible()
    hit.click()
    found = page.locator(".log .found")
    expect(found).to_contain_text("dentist appointment on Thursday")
    expect(found).to_be_focused()

    box = page.get_by_label("Search chats and messages")
    box.fill("zzyzx")
    expect(page.get_by_role("status").filter(has_text="No message matches.")).to_be_visible()
    box.fill('"')  # FTS syntax alone: a message, not an error page
    expect(page.locator(".hits")).to_be_hidden()
