"""The browser side: pages in separate contexts whose script errors fail the test, and
signing up or in through the UI."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, BrowserContext, Page

from netra.testing import PASSWORD, NetraProcess

NetraFactory = Callable[..., NetraProcess]


class Pages:
    """New browser contexts (separate cookie jars: separate devices); page errors fail."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def new(self, width: int = 1200, height: int = 800) -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page


def sign_up(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    """Create an account through the UI and land signed in."""
    page.goto(f"{url}/#/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Sign out").wait_for()


def sign_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def ask(page: Page, text: str) -> None:
    """Type `text` into the composer and send it (Enter)."""
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")
