"""Passkeys through the API with a software authenticator: add, list, rename, remove,
sign in; and the assertions a browser would never send (another origin or RP id, a
replayed challenge, a sign-count going backwards). Chromium's virtual authenticator
walks the happy path in tests/web/test_security.py."""

from __future__ import annotations

from typing import Any

import httpx

from netra.testing import PASSWORD, bearer
from tests.support.accounts import PUBLIC_URL, ServiceFactory, login, register
from tests.support.auth import reason
from tests.support.smtp import SmtpServer
from tests.support.webauthn import SoftAuthenticator

RP_ID = "chat.example.test"


async def add_passkey(
    client: httpx.AsyncClient, headers: dict[str, str], name: str = "Laptop"
) -> tuple[SoftAuthenticator, dict[str, Any]]:
    begun = await client.post(
        "/auth/passkeys/register/begin", json={"password": PASSWORD}, headers=headers
    )
    assert begun.status_code == 200, begun.text
    options = begun.json()
    assert options["rp"] == {"id": RP_ID, "name": "Netra"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    device = SoftAuthenticator(RP_ID, PUBLIC_URL)
    done = await client.post(
        "/auth/passkeys/register/finish",
        json={"credential": device.create(options), "name": name},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    return device, done.json()


async def login_options(client: httpx.AsyncClient) -> dict[str, Any]:
    begun = await client.post("/auth/passkeys/login/begin")
    assert begun.status_code == 200, begun.text
    options: dict[str, Any] = begun.json()
    assert options.get("allowCredentials", []) == []  # discoverable: no email typed
    return options


async def finish(client: httpx.AsyncClient, credential: dict[str, Any]) -> httpx.Response:
    return await client.post("/auth/passkeys/login/finish", json={"credential": credential})


async def test_add_list_rename_sign_in_and_remove(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    headers = bearer((await login(accounts))["access_token"])
    wrong = await accounts.post(
        "/auth/passkeys/register/begin", json={"password": "nope"}, headers=headers
    )
    assert (wrong.status_code, reason(wrong)) == (403, "invalid_credentials")
    device, added = await add_passkey(accounts, headers)
    assert (await smtp.mailbox.next())["Subject"] == "A new passkey was added"
    assert (await accounts.get("/auth/me", headers=headers)).json()["passkeys"] == 1

    pair = await finish(accounts, device.get(await login_options(accounts)))
    assert pair.status_code == 200, pair.text
    passkey_headers = bearer(pair.json()["access_token"])
    me = (await accounts.get("/auth/me", headers=passkey_headers)).json()
    assert me["email"] == "ada@example.com"
    sessions = (await accounts.get("/auth/sessions", headers=passkey_headers)).json()
    assert "passkey" in [s["auth_method"] for s in sessions]

    renamed = await accounts.patch(
        f"/auth/passkeys/{added['id']}", json={"name": "Work laptop"}, headers=headers
    )
    assert renamed.json()["name"] == "Work laptop"
    listed = (await accounts.get("/auth/passkeys", headers=headers)).json()
    assert [(p["name"], p["last_used_at"] is not None) for p in listed] == [("Work laptop", True)]
    gone = await accounts.delete(f"/auth/passkeys/{added['id']}", headers=headers)
    assert gone.status_code == 204
    after = await finish(accounts, device.get(await login_options(accounts)))
    assert (after.status_code, reason(after)) == (401, "unknown_passkey")


async def test_assertions_for_another_origin_or_rp_id_are_refused(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    device, _ = await add_passkey(accounts, bearer((await login(accounts))["access_token"]))
    phished = device.get(await login_options(accounts), origin="https://chat.example.evil")
    refused = await finish(accounts, phished)
    assert (refused.status_code, reason(refused)) == (401, "invalid_credential")
    other_rp = device.get(await login_options(accounts), rp_id="example.evil")
    refused = await finish(accounts, other_rp)
    assert (refused.status_code, reason(refused)) == (401, "invalid_credential")
    assert (await finish(accounts, device.get(await login_options(accounts)))).status_code == 200


async def test_a_replayed_challenge_and_a_backwards_sign_count_are_refused(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    device, _ = await add_passkey(accounts, bearer((await login(accounts))["access_token"]))
    assertion = device.get(await login_options(accounts), count=5)
    assert (await finish(accounts, assertion)).status_code == 200
    replayed = await finish(accounts, assertion)
    assert (replayed.status_code, reason(replayed)) == (401, "challenge_used")
    cloned = await finish(accounts, device.get(await login_options(accounts), count=3))
    assert (cloned.status_code, reason(cloned)) == (401, "invalid_credential")
    made_up = dict(assertion, response={**assertion["response"], "clientDataJSON": "e30"})
    malformed = await finish(accounts, made_up)
    assert malformed.status_code == 401


async def test_registration_challenges_belong_to_one_account_and_one_use(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    await register(accounts, smtp, "bob@example.com")
    ada = bearer((await login(accounts))["access_token"])
    bob = bearer((await login(accounts, "bob@example.com"))["access_token"])
    options = (
        await accounts.post(
            "/auth/passkeys/register/begin", json={"password": PASSWORD}, headers=ada
        )
    ).json()
    credential = SoftAuthenticator(RP_ID, PUBLIC_URL).create(options)
    stolen = await accounts.post(
        "/auth/passkeys/register/finish", json={"credential": credential}, headers=bob
    )
    assert (stolen.status_code, reason(stolen)) == (400, "invalid_challenge")
    foreign_origin = SoftAuthenticator(RP_ID, "https://evil.example").create(
        (
            await accounts.post(
                "/auth/passkeys/register/begin", json={"password": PASSWORD}, headers=ada
            )
        ).json()
    )
    refused = await accounts.post(
        "/auth/passkeys/register/finish", json={"credential": foreign_origin}, headers=ada
    )
    assert (refused.status_code, reason(refused)) == (400, "invalid_credential")


async def test_an_address_as_public_url_explains_itself(
    service: ServiceFactory, smtp: SmtpServer
) -> None:
    async with service(PUBLIC_URL="http://127.0.0.1:8000") as client:
        refused = await client.post("/auth/passkeys/login/begin")
        assert (refused.status_code, reason(refused)) == (503, "passkeys_unavailable")
        assert "localhost" in refused.json()["detail"]["message"]


async def test_a_passkey_sign_in_remembers_the_browser_like_a_password_sign_in(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    """The device cookie (netra.auth.devices) and the session row a password sign-in
    leaves: the browser is recognised afterwards, the sessions page names it."""
    await register(accounts, smtp)
    headers = bearer((await login(accounts))["access_token"])
    device, _ = await add_passkey(accounts, headers)
    accounts.cookies.clear()
    browser = {"X-Netra-Refresh": "cookie", "User-Agent": "Ada's phone"}
    pair = await accounts.post(
        "/auth/passkeys/login/finish",
        json={"credential": device.get(await login_options(accounts))},
        headers=browser,
    )
    assert pair.status_code == 200, pair.text
    assert pair.json()["refresh_token"] is None  # in its HttpOnly cookie
    remembered = accounts.cookies.get("netra_device")
    assert remembered
    sessions = (
        await accounts.get("/auth/sessions", headers=bearer(pair.json()["access_token"]))
    ).json()
    mine = next(s for s in sessions if s["current"])
    assert (mine["auth_method"], mine["user_agent"]) == ("passkey", "Ada's phone")
    assert mine["ip_address"]

    # The same browser signing in with the password later is the same device.
    again = await accounts.post(
        "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}, headers=browser
    )
    assert again.status_code == 200, again.text
    after = accounts.cookies.get("netra_device")
    assert after is not None
    assert after.split(".")[1] == remembered.split(".")[1]
