"""Browser fixtures: Debian's Chromium under Playwright, and `netra up` as a real process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.processes import NetraProcess, free_port, netra_env
from tests.web.browser import CHROMIUM_ARGS, ensure_chromium

PASSWORD = "correct horse battery"
NetraFactory = Callable[..., NetraProcess]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    # Runs start within milliseconds alone; under a loaded test machine give them time.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def start_netra(tmp_path: Path) -> Iterator[NetraFactory]:
    """`start_netra(**ENV)`: `netra up` on a free port with its data in tmp_path; the same
    call again (after `.stop()`) restarts it on the same port and data."""
    started: list[NetraProcess] = []
    port = free_port()

    def start(**env: str) -> NetraProcess:
        settings = {"ENVIRONMENT": "development", **env}
        process = NetraProcess(
            ["up", "--data-dir", str(tmp_path / "data")],
            netra_env(tmp_path, **settings),
            port,
            tmp_path / f"netra-{len(started)}.log",
        )
        started.append(process)
        process.wait_for("/health/ready", timeout=60)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def netra(start_netra: NetraFactory) -> NetraProcess:
    return start_netra()


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


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    made = Pages(browser)
    yield made
    for context in made.contexts:
        context.close()
    assert not made.errors, f"uncaught errors in the page: {made.errors}"


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
