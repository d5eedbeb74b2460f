"""The usage page and the admin dashboard in a real browser against `netra up`: charts
drawn by the vendored uPlot under the strict CSP, budgets set from the page refusing the
next message."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, expect

from netra.testing import NetraProcess
from tests.support.web import Pages, ask, sign_up

pytestmark = pytest.mark.slow


def test_usage_and_dashboard_pages_draw_charts_and_set_budgets(
    netra: NetraProcess, pages: Pages
) -> None:
    page = pages.new()
    refused: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused" in message.text:
            refused.append(message.text)

    page.on("console", console)
    sign_up(page, netra.url, "admin@example.com")  # first account in development: admin
    ask(page, "what is 17 * 23?")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("391")

    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Your usage")).to_be_visible()
    expect(page.locator(".chart canvas")).to_have_count(1)
    expect(page.locator(".table-wrap tbody tr").last).to_contain_text("builtin")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".chart canvas")).to_have_count(3)
    expect(page.locator(".stats")).to_contain_text("runs now")

    page.get_by_label("Name", exact=True).fill("admin")
    page.get_by_label("messages per day").fill("1")
    page.get_by_role("button", name="Save budget").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.locator(".table-wrap tbody").last).to_contain_text("admin")

    page.get_by_role("link", name="Chats").click()
    ask(page, "one more?")
    expect(page.get_by_text("messages_per_day", exact=False).first).to_be_visible()
    assert not refused, refused
