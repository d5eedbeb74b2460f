"""`make screenshots`: docs/screenshots/ from a real `netra up` in Debian's Chromium."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

from netra.testing import NetraProcess, free_port, netra_env
from tests.support.web import sign_in, sign_up
from tests.web.browser import CHROMIUM_ARGS, ensure_chromium


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = netra_env(home, ENVIRONMENT="development")
        args = ["up", "--data-dir", str(home / "data")]
        with NetraProcess(args, env, free_port(), home / "netra.log") as netra:
            netra.wait_for("/health/ready")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=ensure_chromium(), headless=True, args=CHROMIUM_ARGS
                )
                shoot(browser, netra.url, out)
                browser.close()


def shoot(browser: Browser, url: str, out: Path) -> None:
    size = {"width": 1200, "height": 760}
    desk = browser.new_context(viewport=size, color_scheme="light")
    page = desk.new_page()
    page.goto(f"{url}/#/signin")
    page.get_by_role("heading", name="Sign in to Netra").wait_for()
    page.screenshot(path=out / "sign-in.png")
    sign_up(page, url, "ada@example.com")
    box = page.get_by_label("Message", exact=True)
    box.fill("what is 17 * 23?")
    box.press("Enter")
    expect(page.locator(".turn-agent .step-completed")).to_be_visible()
    page.get_by_label("Message", exact=True).click()
    page.screenshot(path=out / "chat-timeline.png")
    phone = browser.new_context(viewport={"width": 390, "height": 760})
    sign_in(phone.new_page(), url, "ada@example.com")
    page.get_by_role("link", name="Sessions").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.screenshot(path=out / "sessions.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
