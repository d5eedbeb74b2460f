"""The accounts walk of issue 16 in Debian's Chromium against `netra up` (no SMTP: mail
goes to DATA_DIR/mail): register, verify, enrol TOTP and a passkey (Chrome's virtual
authenticator over CDP), sign out, sign in with each, forget the password and reset it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from netra.testing import PASSWORD, NetraProcess, free_port, netra_env
from tests.support.web import Pages, sign_up

pytestmark = pytest.mark.slow
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def netra(tmp_path: Path) -> Iterator[NetraProcess]:
    port = free_port()
    # WebAuthn wants a host name for the relying party: localhost, not 127.0.0.1.
    env = netra_env(tmp_path, ENVIRONMENT="development", PUBLIC_URL=f"http://localhost:{port}")
    process = NetraProcess(
        ["up", "--data-dir", str(tmp_path / "data")], env, port, tmp_path / "netra.log"
    )
    process.wait_for("/health/ready", timeout=60)
    process.url = f"http://localhost:{port}"
    yield process
    process.stop()


def mailed_link(folder: Path, subject: str, seen: set[Path]) -> str:
    """The link of the next mail with `subject` the outbox wrote to DATA_DIR/mail."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            if path in seen:
                continue
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if message["Subject"] == subject:
                seen.add(path)
                body = message.get_body(("plain",))
                assert body is not None
                return str(re.findall(r"https?://\S+", body.get_content())[0])
        time.sleep(0.1)
    raise AssertionError(f"no mail '{subject}' in {folder}")


def virtual_authenticator(page: Page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_contain_text("You are signed out")


def test_register_verify_enrol_sign_in_each_way_and_reset(
    netra: NetraProcess, pages: Pages, tmp_path: Path
) -> None:
    mail, seen = tmp_path / "data" / "mail", set[Path]()
    page = pages.new()
    virtual_authenticator(page)
    sign_up(page, netra.url, "ada@example.com")

    page.goto(mailed_link(mail, "Confirm your email address", seen))
    expect(page.get_by_role("status")).to_contain_text("ada@example.com is confirmed")
    assert "token" not in page.url  # moved off the address bar at once

    page.goto(f"{netra.url}/#/security")
    expect(page.locator(".security").first).to_contain_text("(verified)")
    page.locator("#mfa-password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator(".qr svg")).to_be_visible()
    totp = pyotp.TOTP(page.locator(".totp-secret").inner_text())
    page.locator("#mfa-code").fill(totp.now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator(".codes code")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()

    page.locator("#passkey-password").fill(PASSWORD)
    page.locator("#passkey-name").fill("Laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator(".passkeys")).to_contain_text("Laptop")

    sign_out(page)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("#top")).to_contain_text("ada@example.com")

    sign_out(page)
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#mfa-code").fill(recovery[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#top")).to_contain_text("ada@example.com")

    sign_out(page)
    page.get_by_role("link", name="Forgot your password?").click()
    # The sign-in form has an Email field too: wait for the page that asks for the
    # address (filled before the view changes, it goes with the old form, and the new
    # one's `required` field keeps the request from being sent: a flake under load).
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("If this address has an account")
    page.goto(mailed_link(mail, "Reset your password", seen))
    assert "token" not in page.url
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Your password is set")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#mfa-code").fill(recovery[1])
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#top")).to_contain_text("ada@example.com")

    page.goto(f"{netra.url}/#/security")
    activity = page.locator(".security").last
    expect(activity).to_contain_text("password reset")
    expect(activity).to_contain_text("passkey added")

    # The first account of a development instance is an admin: the Users page mails a
    # reset link and shows the outbox.
    page.get_by_role("link", name="Users").click()
    page.get_by_role("button", name="Send reset link: ada@example.com").click()
    expect(page.locator("tbody").first).to_contain_text("a reset link is on its way")
    assert mailed_link(mail, "Reset your password", seen).startswith(f"{netra.url}/reset-password?")
    expect(page.get_by_role("heading", name="Mail")).to_be_visible()
    page.get_by_label("Search the audit log").fill("ada@")
    page.get_by_role("button", name="Search log").click()
    expect(page.locator("table").last).to_contain_text("password_reset")
