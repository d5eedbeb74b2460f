"""The account pages in a real browser against `netra up`: sign-up, sign-in, silent
refresh, sessions and revocation, sign out everywhere, API keys, admin users."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from netra.testing import PASSWORD, NetraProcess
from tests.support.web import NetraFactory, Pages, sign_in, sign_up

pytestmark = pytest.mark.slow


def test_sign_up_sign_out_and_sign_in_again(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    sign_up(page, netra.url, "ada@example.com")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_contain_text("You are signed out")
    sign_in(page, netra.url, "ada@example.com")
    expect(page.locator("#top")).to_contain_text("ada@example.com")


def test_a_wrong_password_is_said_in_words(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    sign_up(page, netra.url, "bob@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill("bob@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".auth-form .error")).to_be_visible()


def test_a_reload_keeps_the_session_through_the_cookie_only(
    netra: NetraProcess, pages: Pages
) -> None:
    page = pages.new()
    sign_up(page, netra.url, "cy@example.com")
    cookies = page.context.cookies()
    refresh = next(c for c in cookies if c["name"] == "netra_refresh")
    assert refresh["httpOnly"]
    assert refresh["sameSite"] == "Strict"
    assert refresh["path"] == "/auth/refresh"
    assert page.evaluate("document.cookie") == ""  # script cannot see it
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    page.reload()
    page.get_by_role("button", name="Sign out").wait_for()


def test_an_expired_access_token_is_refreshed_silently(
    start_netra: NetraFactory, pages: Pages
) -> None:
    netra = start_netra(ACCESS_TOKEN_TTL="3", TOKEN_LEEWAY="0")
    page = pages.new()
    sign_up(page, netra.url, "dee@example.com")
    refreshes: list[int] = []
    page.on(
        "response",
        lambda r: refreshes.append(r.status) if r.url.endswith("/auth/refresh") else None,
    )
    time.sleep(4)  # the access token in memory is now dead
    page.get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    assert refreshes == [200], refreshes
    expect(page.get_by_role("heading", name="Sign in to Netra")).to_have_count(0)


def _sessions(page: Page) -> None:
    page.get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()


def test_revoking_a_session_from_another_device_signs_it_out_with_a_message(
    netra: NetraProcess, pages: Pages
) -> None:
    laptop, phone = pages.new(), pages.new(390, 844)
    sign_up(laptop, netra.url, "eve@example.com")
    sign_in(phone, netra.url, "eve@example.com")
    _sessions(phone)
    expect(phone.locator("tbody tr")).to_have_count(2)
    phone.get_by_role("button", name=re.compile("^Revoke session")).click()
    expect(phone.get_by_role("status").first).to_contain_text("revoked")
    expect(phone.locator("tbody tr")).to_have_count(1)
    # The laptop's next request (here: opening a page) finds its session gone.
    laptop.get_by_role("link", name="API keys").click()
    expect(laptop.get_by_role("heading", name="Sign in to Netra")).to_be_visible()
    expect(laptop.locator(".notice")).to_contain_text("Your session has ended")


def test_sign_out_everywhere(netra: NetraProcess, pages: Pages) -> None:
    first, second = pages.new(), pages.new()
    sign_up(first, netra.url, "fay@example.com")
    sign_in(second, netra.url, "fay@example.com")
    _sessions(first)
    first.once("dialog", lambda dialog: dialog.accept())
    first.get_by_role("button", name="Sign out everywhere").click()
    expect(first.locator(".notice")).to_contain_text("signed out everywhere")
    second.reload()
    expect(second.get_by_role("heading", name="Sign in to Netra")).to_be_visible()


def test_api_keys_are_shown_once_and_revoked(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    sign_up(page, netra.url, "gus@example.com")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("laptop script")
    page.get_by_label("Your password").fill("not the password")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("p.error")).to_contain_text("password")  # asked again, and checked
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create key").click()
    expect(page.locator(".secret code.key")).to_contain_text("nk_")
    keys = page.locator("table:not(.scopes) tbody tr")
    expect(keys).to_have_count(1)
    page.get_by_role("button", name="Revoke key laptop script").click()
    expect(keys.locator("td").nth(4)).to_contain_text("revoked")


def test_admins_search_and_disable_accounts(netra: NetraProcess, pages: Pages) -> None:
    admin, user = pages.new(), pages.new()
    sign_up(admin, netra.url, "admin@example.com")  # first account in development: admin
    sign_up(user, netra.url, "hal@example.com")
    admin.get_by_role("link", name="Users").click()
    admin.get_by_label("Search accounts").fill("hal")
    admin.get_by_role("button", name="Search", exact=True).click()
    expect(admin.locator("tbody tr")).to_have_count(1)
    admin.get_by_role("button", name="Disable hal@example.com").click()
    expect(admin.get_by_role("button", name="Enable hal@example.com")).to_be_visible()
    user.get_by_role("link", name="Sessions").click()
    expect(user.locator(".notice")).to_contain_text("Your session has ended")


def test_the_first_screen_is_usable_within_a_second(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    page.goto(netra.url)  # warm the server's caches of the files, as any second visit is
    page.goto(netra.url)
    page.get_by_label("Email").wait_for()
    # Time from navigation start to a form ready for typing, by the page's own clock.
    elapsed = page.evaluate("performance.now()")
    assert elapsed < 1000, f"sign-in form ready after {elapsed:.0f} ms"
