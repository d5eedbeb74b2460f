"""Assistants in a real browser against `netra up`: make one in the Assistants dialog,
edit it, pick it for a new chat, click its starter; the chat is the assistant's and its
answer used the tool it was given."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from netra.testing import NetraProcess
from tests.support.web import Pages, sign_up

pytestmark = pytest.mark.slow


def test_an_assistant_is_made_picked_and_its_starter_clicked(
    netra: NetraProcess, pages: Pages
) -> None:
    page = pages.new()
    sign_up(page, netra.url, "assistants@example.com")
    picker = page.get_by_label("Assistant", exact=True)
    expect(picker).to_have_value("builtin")
    expect(page.get_by_role("button", name="What is 17 * 23?")).to_be_visible()

    page.get_by_role("button", name="Manage assistants").click()
    dialog = page.get_by_role("dialog", name="Assistants")
    dialog.get_by_label("Name", exact=True).fill("Quiz")
    dialog.get_by_label("Instructions").fill("Ask back before answering.")
    dialog.get_by_role("checkbox", name="calculator").check()
    dialog.get_by_label("Starters").fill("what is 6 * 7?")
    dialog.get_by_role("button", name="Create assistant").click()
    dialog.get_by_role("button", name="Edit Quiz").click()
    expect(dialog.get_by_label("Instructions")).to_have_value("Ask back before answering.")
    dialog.get_by_label("Name", exact=True).fill("Quiz master")
    dialog.get_by_role("button", name="Save assistant").click()
    expect(dialog.get_by_role("list", name="Your assistants")).to_contain_text("Quiz master")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    page.get_by_label("Assistant", exact=True).select_option(label="Quiz master (yours)")
    page.get_by_role("button", name="what is 6 * 7?").click()
    expect(page.locator(".thread-assistant")).to_have_text("with Quiz master")
    expect(page.locator(".turn-user .bubble").last).to_have_text("what is 6 * 7?")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("42")
