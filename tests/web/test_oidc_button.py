"""Sign in with an OpenID provider from the web UI, in Chromium, against the real npm
`oidc-provider`: the button, the provider's own login and consent pages, and back to
Netra signed in, with no token in any URL the browser visited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyotp
import pytest
from joserfc.jwk import RSAKey
from playwright.sync_api import Page, expect

from netra.testing import PASSWORD, NetraProcess, free_port, netra_env
from tests.support.oidc import SECRET, install_provider, start_provider
from tests.support.web import Pages, sign_up

pytestmark = pytest.mark.slow


def test_sign_in_with_a_provider_button(pages: Pages, tmp_path: Path) -> None:
    install_provider()
    netra_port, provider_port = free_port(), free_port()
    callback = f"http://127.0.0.1:{netra_port}/auth/oidc/web/callback"
    key = RSAKey.generate_key(2048, parameters={"kid": "web-key", "use": "sig", "alg": "RS256"})
    client = {
        "client_id": "netra-web",
        "client_secret": SECRET,
        "redirect_uris": [callback],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    provider = start_provider(
        provider_port, key.as_dict(private=True), tmp_path / "provider.log", [client]
    )
    env = netra_env(
        tmp_path,
        ENVIRONMENT="development",
        OIDC_PROVIDERS="web",
        OIDC_WEB_ISSUER=f"http://127.0.0.1:{provider_port}",
        OIDC_WEB_CLIENT_ID="netra-web",
        OIDC_WEB_CLIENT_SECRET=SECRET,
        OIDC_WEB_REDIRECT_URL=callback,
        OIDC_WEB_DISPLAY_NAME="Example ID",
    )
    visited: list[str] = []
    try:
        with NetraProcess(
            ["up", "--data-dir", str(tmp_path / "data")], env, netra_port, tmp_path / "netra.log"
        ) as netra:
            netra.wait_for("/health/ready")
            page = pages.new()
            page.on("framenavigated", lambda frame: visited.append(frame.url))
            page.goto(netra.url)
            page.get_by_role("link", name="Sign in with Example ID").click()
            page.locator("input[name=login]").fill("grace@example.com")
            page.locator("input[name=password]").fill("any")
            page.locator("button[type=submit]").click()
            page.locator("button[type=submit]").click()  # the provider's consent screen
            expect(page.get_by_text("grace@example.com")).to_be_visible()
            expect(page.get_by_role("button", name="New chat")).to_be_visible()
    finally:
        provider.terminate()
        provider.wait(timeout=10)
    back = [url for url in visited if url.startswith(f"http://127.0.0.1:{netra_port}")]
    assert back, visited
    for url in visited:
        assert "access_token" not in url, url
        assert "refresh_token" not in url, url
    assert pages.errors == []


@contextmanager
def netra_with_provider(tmp_path: Path) -> Iterator[NetraProcess]:
    """`netra up` (development) signing in with the real npm provider as "Example ID"."""
    install_provider()
    netra_port, provider_port = free_port(), free_port()
    callback = f"http://127.0.0.1:{netra_port}/auth/oidc/web/callback"
    key = RSAKey.generate_key(2048, parameters={"kid": "web-key", "use": "sig", "alg": "RS256"})
    client = {
        "client_id": "netra-web",
        "client_secret": SECRET,
        "redirect_uris": [callback],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    provider = start_provider(
        provider_port, key.as_dict(private=True), tmp_path / "provider.log", [client]
    )
    env = netra_env(
        tmp_path,
        ENVIRONMENT="development",
        OIDC_PROVIDERS="web",
        OIDC_WEB_ISSUER=f"http://127.0.0.1:{provider_port}",
        OIDC_WEB_CLIENT_ID="netra-web",
        OIDC_WEB_CLIENT_SECRET=SECRET,
        OIDC_WEB_REDIRECT_URL=callback,
        OIDC_WEB_DISPLAY_NAME="Example ID",
    )
    try:
        with NetraProcess(
            ["up", "--data-dir", str(tmp_path / "data")], env, netra_port, tmp_path / "netra.log"
        ) as netra:
            netra.wait_for("/health/ready")
            yield netra
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def at_provider(page: Page, login: str) -> None:
    """Sign in at the provider (its devInteractions login and consent screens)."""
    page.get_by_role("link", name="Sign in with Example ID").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]").click()  # the provider's consent screen


def test_a_provider_sign_in_for_an_existing_account_asks_for_its_password(
    pages: Pages, tmp_path: Path
) -> None:
    """Issue 15 item 4 in the browser: the address has a password account, so the
    provider's sign-in is linked only once that account's password is given."""
    with netra_with_provider(tmp_path) as netra:
        page = pages.new()
        sign_up(page, netra.url, "hank@example.com")
        page.get_by_role("button", name="Sign out").click()
        at_provider(page, "hank@example.com")
        expect(page.locator(".notice")).to_contain_text("link")
        page.get_by_label("Password").fill("not hank's password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("p.error")).to_be_visible()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("hank@example.com")).to_be_visible()
    assert pages.errors == []


def test_a_provider_sign_in_into_an_account_with_two_factor_asks_for_the_code(
    pages: Pages, tmp_path: Path
) -> None:
    """Issue 16: the provider (and, when linking, the password) is one factor; the code
    step follows, a wrong code is refused there, and only the right one signs in."""
    with netra_with_provider(tmp_path) as netra:
        page = pages.new()
        sign_up(page, netra.url, "ivy@example.com")
        page.goto(f"{netra.url}/#/security")
        page.locator("#mfa-password").fill(PASSWORD)
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
        totp = pyotp.TOTP(page.locator(".totp-secret").inner_text())
        page.locator("#mfa-code").fill(totp.now())
        page.get_by_role("button", name="Confirm", exact=True).click()
        codes = page.locator(".codes code")
        expect(codes).to_have_count(10)
        recovery = codes.all_inner_texts()
        page.get_by_role("button", name="Done").click()
        expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()

        for attempt, linking in enumerate((True, False)):
            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("alert")).to_contain_text("You are signed out")
            page.context.clear_cookies()  # the provider asks for its login again
            at_provider(page, "ivy@example.com")
            if linking:
                expect(page.locator(".notice")).to_contain_text("link")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
            page.locator("#mfa-code").fill("000000")
            page.get_by_role("button", name="Verify").click()
            expect(page.locator("p.error")).to_contain_text("code is wrong")
            expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
            page.locator("#mfa-code").fill(recovery[attempt])
            page.get_by_role("button", name="Verify").click()
            expect(page.get_by_text("ivy@example.com")).to_be_visible()
    assert pages.errors == []
