"""Sharing, exporting and rating in a real browser against `netra up`: the shared link
opens in another browser with no account, shows the chat and its tool call, carries
noindex, and stops working once sharing stops; an answer's rating sticks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from netra.testing import NetraProcess
from tests.support.web import Pages, ask, sign_up

pytestmark = pytest.mark.slow


def test_share_export_and_rate(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    sign_up(page, netra.url, "sharer@example.com")
    ask(page, "what is 17 * 23?")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("391")

    good = page.get_by_role("button", name="Good answer")
    good.click()
    expect(good).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="Bad answer")).to_have_attribute("aria-pressed", "false")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export Markdown").click()
    saved = download.value.path()
    assert saved is not None
    text = saved.read_text()
    assert text.startswith("# what is 17 * 23?")
    assert "Tool `calculator`" in text

    page.get_by_role("button", name="Share").click()
    link = page.get_by_label("Shared link")
    url = link.input_value()
    assert url.startswith(f"{netra.url}/s/")

    stranger = pages.new()
    response = stranger.goto(url)
    assert response is not None
    assert "noindex" in (response.headers.get("x-robots-tag") or "")
    expect(stranger.get_by_role("heading", name="what is 17 * 23?")).to_be_visible()
    expect(stranger.locator(".turn-agent .answer")).to_contain_text("391")
    expect(stranger.locator(".timeline")).to_contain_text("calculator")
    expect(stranger.locator("body")).not_to_contain_text("sharer@example.com")

    page.get_by_role("button", name="Stop sharing").click()
    expect(page.get_by_role("status").filter(has_text="Sharing stopped")).to_be_visible()
    gone = stranger.goto(url)
    assert gone is not None
    assert gone.status == 404
    expect(
        stranger.get_by_role("heading", name="This shared chat is not available")
    ).to_be_visible()
