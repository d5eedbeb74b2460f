"""Sign in with an OpenID provider from the web UI, in Chromium, against the real npm
`oidc-provider`: the button, the provider's own login and consent pages, and back to
Netra signed in, with no token in any URL the browser visited."""

from __future__ import annotations

from pathlib import Path

import pytest
from joserfc.jwk import RSAKey
from playwright.sync_api import expect

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


def test_a_provider_sign_in_for_an_existing_account_asks_for_its_password(
    pages: Pages, tmp_path: Path
) -> None:
    """Issue 15 item 4 in the browser: the address has a password account, so the
    provider's sign-in is linked only once that account's password is given."""
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
            page = pages.new()
            sign_up(page, netra.url, "hank@example.com")
            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("link", name="Sign in with Example ID").click()
            page.locator("input[name=login]").fill("hank@example.com")
            page.locator("input[name=password]").fill("any")
            page.locator("button[type=submit]").click()
            page.locator("button[type=submit]").click()  # the provider's consent screen
            expect(page.locator(".notice")).to_contain_text("link")
            page.get_by_label("Password").fill("not hank's password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("p.error")).to_be_visible()
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("hank@example.com")).to_be_visible()
    finally:
        provider.terminate()
        provider.wait(timeout=10)
    assert pages.errors == []
