"""Edit, regenerate and branch in a real browser against `netra up`: editing a sent
message makes a second version the agent answers, regenerating an answer makes a second
answer, and the "2/2" switchers move between the branches (which survive a reload)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from netra.testing import NetraProcess
from tests.support.web import Pages, ask, sign_up

pytestmark = pytest.mark.slow


def test_edit_regenerate_and_switch_branches(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    sign_up(page, netra.url, "brancher@example.com")
    ask(page, "what is 17 * 23?")
    answers = page.locator(".turn-agent .answer")
    expect(answers.last).to_contain_text("391")

    question = page.locator(".turn-user").last
    question.get_by_role("button", name="Edit this message").click()
    box = page.get_by_label("Edited message")
    box.fill("what is 6 * 7?")
    page.locator(".edit-form").get_by_role("button", name="Send").click()
    expect(answers.last).to_contain_text("42")
    expect(page.locator(".turn-user .bubble")).to_have_text(["what is 6 * 7?"])
    expect(page.locator(".turn-user .switcher .position")).to_have_text("2/2")

    page.get_by_role("button", name="Regenerate this answer").click()
    expect(page.locator(".turn-agent .switcher .position")).to_have_text("2/2")
    expect(answers.last).to_contain_text("42")
    expect(page.locator(".turn-agent")).to_have_count(1)

    page.get_by_role("button", name="Previous version").click()
    expect(page.locator(".turn-user .bubble")).to_have_text(["what is 17 * 23?"])
    expect(answers.last).to_contain_text("391")
    expect(page.locator(".turn-user .switcher .position")).to_have_text("1/2")

    page.reload()
    expect(page.locator(".turn-user .bubble")).to_have_text(["what is 17 * 23?"])
    page.get_by_role("button", name="Next version").click()
    expect(page.locator(".turn-user .bubble")).to_have_text(["what is 6 * 7?"])
    expect(page.locator(".turn-agent .switcher .position")).to_have_text("2/2")
    page.get_by_role("button", name="Previous answer").click()
    expect(page.locator(".turn-agent .switcher .position")).to_have_text("1/2")
    expect(answers.last).to_contain_text("42")
