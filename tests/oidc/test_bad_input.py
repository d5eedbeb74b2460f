"""Every "bad input" of issue 9 through the real flow (Netra in process, the real provider
over the network, httpx as the browser): each a 4xx with a reason and a message, and no
session created. ID tokens forged with our own keys are in test_id_tokens.py."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from netra.auth.models import OidcLogin, UserSession
from tests.oidc.browser import at_provider, callback_url, sign_in, start, with_params
from tests.support.apps import SettingsFactory
from tests.support.oidc import Netra, Provider, netra_with, oidc_env


async def sessions(netra: Netra) -> int:
    async with netra.app.state.runtime.db() as db:
        return int(await db.scalar(select(func.count()).select_from(UserSession)) or 0)


def refused(response: httpx.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["reason"] == reason, detail
    assert detail["message"]


async def answer(netra: Netra, login: str = "ada@example.com") -> str:
    """A genuine callback URL from the provider, not yet delivered to Netra."""
    return callback_url(await at_provider(netra.browser, await start(netra.browser), login))


async def no_session(netra: Netra) -> None:
    assert await sessions(netra) == 0
    refused(await netra.browser.post("/auth/oidc/session"), 401, "invalid_handoff")


async def test_missing_state(netra: Netra) -> None:
    url = with_params(await answer(netra), state=None)
    refused(await netra.browser.get(url), 400, "missing_state")
    await no_session(netra)


async def test_mismatched_state(netra: Netra) -> None:
    url = with_params(await answer(netra), state="not-the-state-we-sent")
    refused(await netra.browser.get(url), 400, "invalid_state")
    await no_session(netra)


async def test_replayed_state(netra: Netra) -> None:
    url = await answer(netra)
    assert (await netra.browser.get(url)).status_code == 303
    assert (await netra.browser.post("/auth/oidc/session")).status_code == 200
    before = await sessions(netra)
    refused(await netra.browser.get(url), 400, "state_used")
    assert await sessions(netra) == before


async def test_state_without_the_browsers_cookie(netra: Netra) -> None:
    url = await answer(netra)
    # The same answer delivered by another browser (no sign-in cookie): refused...
    refused(await netra.api.get(url), 400, "state_not_bound")
    # ...and one carrying some other sign-in's cookie too.
    netra.api.cookies.set("netra_oidc_login", "another-browsers-secret", domain="netra.test")
    refused(await netra.api.get(url), 400, "state_not_bound")
    await no_session(netra)


async def test_wrong_nonce(netra: Netra) -> None:
    # A code minted for another nonce, injected with our state: the ID token's nonce differs.
    url = with_params(await start(netra.browser), nonce="a-nonce-netra-never-issued")
    done = await netra.browser.get(callback_url(await at_provider(netra.browser, url)))
    refused(done, 400, "id_token_invalid_claim")
    assert "nonce" in done.json()["detail"]["message"]
    await no_session(netra)


async def test_replayed_nonce(netra: Netra) -> None:
    first = await start(netra.browser)
    spent_nonce = httpx.URL(first).params["nonce"]
    assert (
        await netra.browser.get(callback_url(await at_provider(netra.browser, first)))
    ).status_code == 303
    assert (await netra.browser.post("/auth/oidc/session")).status_code == 200
    before = await sessions(netra)
    # A second sign-in whose ID token carries the first one's (spent) nonce.
    url = with_params(await start(netra.browser), nonce=spent_nonce)
    done = await netra.browser.get(callback_url(await at_provider(netra.browser, url)))
    refused(done, 400, "id_token_invalid_claim")
    assert await sessions(netra) == before


async def test_wrong_pkce_verifier(netra: Netra) -> None:
    # The code is bound to a challenge whose verifier Netra does not hold.
    other = base64.urlsafe_b64encode(hashlib.sha256(b"x" * 50).digest()).rstrip(b"=").decode()
    url = with_params(await start(netra.browser), code_challenge=other)
    done = await netra.browser.get(callback_url(await at_provider(netra.browser, url)))
    refused(done, 400, "code_rejected")
    await no_session(netra)


async def test_missing_pkce_is_refused_by_the_provider_and_reported(netra: Netra) -> None:
    url = with_params(await start(netra.browser), code_challenge=None, code_challenge_method=None)
    back = await at_provider(netra.browser, url)
    refused(await netra.browser.get(callback_url(back)), 400, "provider_refused")
    await no_session(netra)


async def test_plain_pkce_is_refused(netra: Netra) -> None:
    assert httpx.URL(await start(netra.browser)).params["code_challenge_method"] == "S256"
    url = with_params(
        await start(netra.browser), code_challenge="p" * 43, code_challenge_method="plain"
    )
    back = await at_provider(netra.browser, url)
    refused(await netra.browser.get(callback_url(back)), 400, "provider_refused")
    await no_session(netra)


async def test_reused_code(netra: Netra) -> None:
    url = await answer(netra)
    assert (await netra.browser.get(url)).status_code == 303
    # The spent code with a fresh, valid state of the same browser: the provider refuses it
    # (and the PKCE verifier of the new sign-in does not match its challenge either).
    fresh = httpx.URL(await start(netra.browser)).params["state"]
    replay = with_params(url, state=fresh)
    refused(await netra.browser.get(replay), 400, "code_rejected")
    assert await sessions(netra) == 0  # the refused replay created none


@pytest.mark.parametrize("suffix", ["/", "?extra=1"])
async def test_redirect_uri_differing_is_refused_by_the_provider(netra: Netra, suffix: str) -> None:
    url = await start(netra.browser)
    tampered = with_params(url, redirect_uri=httpx.URL(url).params["redirect_uri"] + suffix)
    back = await at_provider(netra.browser, tampered)
    assert back.status_code == 400  # the provider's own error page: no code, no redirect
    assert "redirect_uri" in back.text
    await no_session(netra)


@pytest.mark.parametrize("suffix", ["/", "?extra=1"])
async def test_redirect_uri_differing_is_refused_by_netra(netra: Netra, suffix: str) -> None:
    # A provider that registered the variants too issues a code for them; Netra exchanges
    # it with its exact redirect URL, so the provider refuses the exchange.
    url = await start(netra.browser, provider="lax")
    tampered = with_params(url, redirect_uri=httpx.URL(url).params["redirect_uri"] + suffix)
    back = callback_url(await at_provider(netra.browser, tampered))
    done = await netra.browser.get(back, follow_redirects=True)
    refused(done, 400, "code_rejected")
    await no_session(netra)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "x"],
)
async def test_open_next_redirect(netra: Netra, target: str) -> None:
    response = await netra.browser.get("/auth/oidc/test/login", params={"next": target})
    refused(response, 400, "invalid_next")
    assert "netra_oidc_login" not in response.cookies


async def test_unverified_email_does_not_link_a_password_account(netra: Netra) -> None:
    created = await netra.api.post(
        "/auth/register", json={"email": "eve@example.com", "password": "a long enough pass 1"}
    )
    assert created.status_code == 201
    done = await sign_in(netra.browser, login="unverified:eve@example.com")
    refused(done, 403, "email_not_verified")  # as without the account: existence stays hidden
    await no_session(netra)


async def test_unverified_email_creates_no_account(netra: Netra) -> None:
    done = await sign_in(netra.browser, login="unverified:fay@example.com")
    refused(done, 403, "email_not_verified")
    await no_session(netra)


async def test_browser_gets_a_readable_page(netra: Netra) -> None:
    url = with_params(await answer(netra), state="forged")
    page = await netra.browser.get(url, headers={"Accept": "text/html"})
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"]
    assert "does not match" in page.text


async def test_unknown_provider(netra: Netra) -> None:
    refused(await netra.browser.get("/auth/oidc/nope/login"), 404, "unknown_provider")
    refused(
        await netra.browser.get("/auth/oidc/nope/callback?state=x&code=y"), 404, "unknown_provider"
    )


async def test_login_starts_are_limited_per_address(
    provider: Provider, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """Each start stores a pending login, so a flood from one address is refused (429 with
    Retry-After, a readable page for a browser) before it reaches the database."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}",
        **oidc_env(provider, LOGIN_LIMIT_PER_IP="2"),
    }
    async for netra in netra_with(env, make_settings):
        for _ in range(2):
            assert (await netra.browser.get("/auth/oidc/test/login")).status_code == 302
        flood = await netra.browser.get("/auth/oidc/test/login")
        refused(flood, 429, "rate_limited")
        assert "oidc_login attempts from this address" in flood.json()["detail"]["message"]
        assert int(flood.headers["Retry-After"]) > 0
        page = await netra.browser.get("/auth/oidc/test/login", headers={"Accept": "text/html"})
        assert (page.status_code, "text/html" in page.headers["content-type"]) == (429, True)
        assert "Retry-After" in page.headers
        async with netra.app.state.runtime.db() as db:
            pending = await db.scalar(select(func.count()).select_from(OidcLogin))
        assert pending == 2
