"""Issue 15 item 2: a stolen access token alone cannot mint a long-lived credential.

Hostile cases: an access token (what script injected into the page holds) creating an
API key with no password, a wrong one, another account's; guessing the password through
key creation (limited like sign-in); a key made before a password change surviving it;
an OIDC-only account creating a key without a fresh provider sign-in, with a proof made
for another account, with a proof used twice, with a proof from an ordinary sign-in."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from netra.testing import PASSWORD, bearer, sign_up
from tests.oidc.browser import at_provider, callback_url, sign_in
from tests.support.apps import SettingsFactory
from tests.support.auth import AuthClientFactory, reason
from tests.support.oidc import Netra, Provider, netra_with, oidc_env


async def create_key(
    client: httpx.AsyncClient, token: str, password: str | None = None, **extra: object
) -> httpx.Response:
    body: dict[str, object] = {"name": "script", "scopes": ["chat", "profile"], **extra}
    if password is not None:
        body["password"] = password
    return await client.post("/auth/api-keys", json=body, headers=bearer(token))


@pytest.mark.parametrize(
    "password",
    [
        pytest.param(None, id="no-password"),
        pytest.param("", id="empty"),
        pytest.param("not the password at all", id="wrong"),
        pytest.param("bob's own passphrase 42", id="another-accounts"),
    ],
)
async def test_an_access_token_alone_cannot_create_an_api_key(
    auth_sqlite: httpx.AsyncClient, password: str | None
) -> None:
    await sign_up(auth_sqlite, "bob@example.com", "bob's own passphrase 42")
    stolen = await sign_up(auth_sqlite)
    answer = await create_key(auth_sqlite, stolen["access_token"], password)
    assert answer.status_code == 401, answer.text
    assert reason(answer) == "reauthentication_required"
    listed = await auth_sqlite.get("/auth/api-keys", headers=bearer(stolen["access_token"]))
    assert listed.json() == []
    good = await create_key(auth_sqlite, stolen["access_token"], PASSWORD)
    assert good.status_code == 201


async def test_guessing_the_password_through_key_creation_is_limited(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(LOGIN_LIMIT_PER_ACCOUNT="3", **sqlite_env) as client:
        stolen = (await sign_up(client))["access_token"]
        client.cookies.clear()
        statuses = [(await create_key(client, stolen, f"guess {i}")).status_code for i in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        assert (await create_key(client, stolen, PASSWORD)).status_code == 429


async def test_a_password_change_revokes_api_keys_and_says_so(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    tokens = await sign_up(auth_sqlite)
    key = (await create_key(auth_sqlite, tokens["access_token"], PASSWORD)).json()["api_key"]
    assert (await auth_sqlite.get("/auth/me", headers=bearer(key))).status_code == 200
    changed = await auth_sqlite.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase 5"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"revoked": 0, "revoked_api_keys": 1}
    refused = await auth_sqlite.get("/auth/me", headers=bearer(key))
    assert refused.status_code == 401


async def test_a_password_change_may_keep_the_keys_when_asked(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    tokens = await sign_up(auth_sqlite)
    key = (await create_key(auth_sqlite, tokens["access_token"], PASSWORD)).json()["api_key"]
    changed = await auth_sqlite.post(
        "/auth/password",
        json={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase 5",
            "revoke_api_keys": False,
        },
        headers=bearer(tokens["access_token"]),
    )
    assert changed.json() == {"revoked": 0, "revoked_api_keys": 0}
    assert (await auth_sqlite.get("/auth/me", headers=bearer(key))).status_code == 200


@pytest.fixture
async def netra(provider: Provider, make_settings: SettingsFactory, tmp_path: Path) -> object:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}", **oidc_env(provider)}
    async for started in netra_with(env, make_settings):
        yield started


async def oidc_account(netra: Netra, login: str) -> str:
    """An account that exists only through the provider; its access token."""
    assert (await sign_in(netra.browser, login=login)).status_code == 303
    pair = await netra.browser.post("/auth/oidc/session")
    assert pair.status_code == 200, pair.text
    return str(pair.json()["access_token"])


async def reauthenticate(netra: Netra, login: str) -> None:
    started = await netra.browser.get(
        "/auth/oidc/test/login", params={"next": "/#/keys", "reauth": "true"}
    )
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert query["prompt"] == ["login"]
    assert query["max_age"] == ["0"]
    back = await netra.browser.get(
        callback_url(await at_provider(netra.browser, started.headers["location"], login))
    )
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/#/keys"
    assert "netra_oidc_handoff" not in back.cookies  # no new session: only the proof


async def test_an_oidc_only_account_reauthenticates_at_its_provider(netra: Netra) -> None:
    token = await oidc_account(netra, "olga@example.com")
    refused = await create_key(netra.browser, token)
    assert refused.status_code == 401
    assert reason(refused) == "reauthentication_required"
    assert "reauth=true" in refused.json()["detail"]["message"]
    await reauthenticate(netra, "olga@example.com")
    created = await create_key(netra.browser, token)
    assert created.status_code == 201, created.text
    again = await create_key(netra.browser, token)  # the proof is spent
    assert again.status_code == 401


async def test_a_reauthentication_proves_only_its_own_account(netra: Netra) -> None:
    victim = await oidc_account(netra, "olga@example.com")
    netra.browser.cookies.clear()
    await oidc_account(netra, "mallory@example.com")
    await reauthenticate(netra, "mallory@example.com")
    refused = await create_key(netra.browser, victim)  # Mallory's proof, Olga's token
    assert refused.status_code == 401
    assert reason(refused) == "reauthentication_required"
