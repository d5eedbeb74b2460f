"""The happy paths against the real provider: sign in, the same token pair as a password
login, linking by subject and by verified email, listing and unlinking."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from netra.auth.models import OidcIdentity, User, UserSession
from tests.oidc.browser import sign_in, start
from tests.support.oidc import Netra


async def test_login_redirect_uses_code_flow_pkce_s256_state_and_nonce(netra: Netra) -> None:
    url = await start(netra.browser, next="/threads")
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 40
    assert len(query["nonce"][0]) >= 40
    assert query["redirect_uri"] == ["http://netra.test/auth/oidc/test/callback"]
    assert "openid" in query["scope"][0].split()
    cookie = next(c for c in netra.browser.cookies.jar if c.name == "netra_oidc_login")
    assert cookie.path == "/auth/oidc"
    assert cookie.has_nonstandard_attr("HttpOnly")


async def test_sign_in_hands_the_web_ui_a_token_pair_without_tokens_in_urls(
    netra_on_each_db: Netra,
) -> None:
    netra = netra_on_each_db
    done = await sign_in(netra.browser, next="/threads?x=1")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/threads?x=1"
    assert "token" not in done.headers["location"]
    pair = await netra.browser.post("/auth/oidc/session")
    assert pair.status_code == 200, pair.text
    body = pair.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "session_id"}
    me = await netra.api.get(
        "/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["email"] == "ada@example.com"
    refreshed = await netra.api.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200
    again = await netra.browser.post("/auth/oidc/session")  # the handoff is single-use
    assert again.status_code == 401
    assert again.json()["detail"]["reason"] == "invalid_handoff"
    async with netra.app.state.runtime.db() as db:
        user = await db.scalar(select(User).where(User.email == "ada@example.com"))
        assert user is not None
        assert user.password_hash is None
        sessions = (await db.scalars(select(UserSession))).all()
        assert [s.auth_method for s in sessions] == ["oidc:test"]


async def test_second_sign_in_finds_the_account_by_subject(netra: Netra) -> None:
    for _ in range(2):
        assert (await sign_in(netra.browser, login="bo@example.com")).status_code == 303
        assert (await netra.browser.post("/auth/oidc/session")).status_code == 200
    async with netra.app.state.runtime.db() as db:
        assert await db.scalar(select(func.count()).select_from(User)) == 1
        assert await db.scalar(select(func.count()).select_from(OidcIdentity)) == 1


async def test_verified_email_links_an_existing_password_account_with_its_password(
    netra: Netra,
) -> None:
    created = await netra.api.post(
        "/auth/register", json={"email": "cy@example.com", "password": "a long enough pass 1"}
    )
    assert created.status_code == 201
    assert (await sign_in(netra.browser, login="cy@example.com")).status_code == 303
    waiting = await netra.browser.post("/auth/oidc/session")
    assert waiting.status_code == 409
    assert waiting.json()["detail"]["reason"] == "link_required"
    linked_now = await netra.browser.post(
        "/auth/oidc/link", json={"password": "a long enough pass 1"}
    )
    assert linked_now.status_code == 200, linked_now.text
    pair = linked_now.json()
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    linked = (await netra.api.get("/auth/oidc/identities", headers=auth)).json()
    assert [item["provider"] for item in linked] == ["test"]
    # A password remains, so the only provider may be unlinked.
    gone = await netra.api.delete(f"/auth/oidc/identities/{linked[0]['id']}", headers=auth)
    assert gone.status_code == 200
    assert (await netra.api.get("/auth/oidc/identities", headers=auth)).json() == []


async def test_the_last_way_to_sign_in_cannot_be_unlinked(netra: Netra) -> None:
    assert (await sign_in(netra.browser, login="di@example.com")).status_code == 303
    pair = (await netra.browser.post("/auth/oidc/session")).json()
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    linked = (await netra.api.get("/auth/oidc/identities", headers=auth)).json()
    refused = await netra.api.delete(f"/auth/oidc/identities/{linked[0]['id']}", headers=auth)
    assert refused.status_code == 409
    assert refused.json()["detail"]["reason"] == "last_sign_in_method"
    # "lax" shares the issuer: the same identity (issuer, subject), not a second one.
    assert (await sign_in(netra.browser, provider="lax", login="di@example.com")).status_code == 303
    assert (await netra.browser.post("/auth/oidc/session")).status_code == 200
    assert len((await netra.api.get("/auth/oidc/identities", headers=auth)).json()) == 1


async def test_providers_are_listed_by_name_for_the_buttons(netra: Netra) -> None:
    listed = (await netra.api.get("/auth/oidc/providers")).json()
    assert listed == [
        {"name": "test", "display_name": "Test IdP", "login_url": "/auth/oidc/test/login"},
        {"name": "lax", "display_name": "Lax", "login_url": "/auth/oidc/lax/login"},
    ]


async def test_readiness_names_each_provider(netra: Netra) -> None:
    ready = (await netra.api.get("/health/ready")).json()
    assert ready["checks"]["oidc:test"]["status"] == "pass", ready
    assert ready["checks"]["oidc:lax"]["status"] == "pass"


async def test_with_the_cookie_transport_the_refresh_token_never_reaches_the_page(
    netra: Netra,
) -> None:
    """The web UI asks with `X-Netra-Refresh: cookie`: the handoff answers the access token,
    and the refresh token goes only into the HttpOnly cookie that /auth/refresh reads."""
    await sign_in(netra.browser)
    pair = await netra.browser.post("/auth/oidc/session", headers={"X-Netra-Refresh": "cookie"})
    assert pair.status_code == 200, pair.text
    assert pair.json()["refresh_token"] is None
    assert pair.json()["access_token"]
    cookie = pair.headers["set-cookie"]
    for part in ("netra_refresh=", "HttpOnly", "Path=/auth/refresh"):
        assert part in cookie
    refreshed = await netra.browser.post("/auth/refresh", headers={"X-Netra-Refresh": "cookie"})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["session_id"] == pair.json()["session_id"]
