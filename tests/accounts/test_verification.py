"""Email verification and email changes, with the links read from real mail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
from sqlalchemy import update

from netra.auth.models import AccountToken
from netra.db.base import utcnow
from netra.testing import PASSWORD, bearer
from tests.support.accounts import ServiceFactory, login, register
from tests.support.auth import reason
from tests.support.smtp import SmtpServer, text_of, token_in


async def verify(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/verify-email", json={"token": token})


async def test_the_access_token_says_email_verified(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    token = await register(accounts, smtp)
    before = jwt.decode(
        (await login(accounts))["access_token"], options={"verify_signature": False}
    )
    assert before["email_verified"] is False
    assert (await verify(accounts, token)).status_code == 200
    after = jwt.decode((await login(accounts))["access_token"], options={"verify_signature": False})
    assert after["email_verified"] is True


async def test_reused_tampered_and_foreign_tokens_are_refused(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    token = await register(accounts, smtp)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert reason(await verify(accounts, tampered)) == "invalid_token"
    assert reason(await verify(accounts, "")) == "invalid_token"
    huge = await verify(accounts, "x" * 1000)
    assert (huge.status_code, reason(huge)) == (400, "invalid_token")

    await accounts.post("/auth/password/forgot", json={"email": "ada@example.com"})
    reset_token = token_in(await smtp.mailbox.next())
    foreign = await verify(accounts, reset_token)  # a reset link is not a verification link
    assert (foreign.status_code, reason(foreign)) == (400, "invalid_token")

    assert (await verify(accounts, token)).status_code == 200
    reused = await verify(accounts, token)
    assert (reused.status_code, reason(reused)) == (400, "token_used")


async def test_an_expired_link_is_refused(
    accounts: httpx.AsyncClient, smtp: SmtpServer, database: Any
) -> None:
    token = await register(accounts, smtp)
    async with database() as session:
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await verify(accounts, token)
    assert (expired.status_code, reason(expired)) == (400, "token_expired")


async def test_resend_is_rate_limited(accounts: httpx.AsyncClient, smtp: SmtpServer) -> None:
    await register(accounts, smtp)
    headers = bearer((await login(accounts))["access_token"])
    for _ in range(3):
        sent = await accounts.post("/auth/verify-email/request", headers=headers)
        assert sent.status_code == 202, sent.text
        assert token_in(await smtp.mailbox.next())
    refused = await accounts.post("/auth/verify-email/request", headers=headers)
    assert (refused.status_code, reason(refused)) == (429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    anonymous = await accounts.post("/auth/verify-email/request")
    assert anonymous.status_code == 401


async def test_require_verified_email_refuses_sign_in_and_mails_a_new_link(
    service: ServiceFactory, smtp: SmtpServer
) -> None:
    async with service(REQUIRE_VERIFIED_EMAIL="true") as client:
        first = await register(client, smtp)
        refused = await client.post(
            "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert (refused.status_code, reason(refused)) == (403, "email_not_verified")
        assert "access_token" not in refused.text
        second = token_in(await smtp.mailbox.next())  # a fresh link is on its way
        assert second != first
        wrong = await client.post(
            "/auth/login", json={"email": "ada@example.com", "password": "not the password"}
        )
        assert reason(wrong) == "invalid_credentials"  # says nothing about verification
        assert (await verify(client, second)).status_code == 200
        assert (await login(client))["access_token"]


async def test_changing_the_email_verifies_the_new_address_and_tells_the_old(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await verify(accounts, await register(accounts, smtp))
    headers = bearer((await login(accounts))["access_token"])
    wrong = await accounts.post(
        "/auth/email", json={"new_email": "ada@new.example", "password": "wrong"}, headers=headers
    )
    assert (wrong.status_code, reason(wrong)) == (403, "invalid_credentials")
    bad = await accounts.post(
        "/auth/email", json={"new_email": "not an address", "password": PASSWORD}, headers=headers
    )
    assert (bad.status_code, reason(bad)) == (422, "invalid_request")
    asked = await accounts.post(
        "/auth/email", json={"new_email": "Ada@New.Example", "password": PASSWORD}, headers=headers
    )
    assert asked.status_code == 202, asked.text
    message = await smtp.mailbox.next()
    assert message["To"] == "ada@new.example"
    me = (await accounts.get("/auth/me", headers=headers)).json()
    assert me["email"] == "ada@example.com"  # nothing changes before the link is used

    done = await verify(accounts, token_in(message))
    assert done.json() == {"email": "ada@new.example", "email_verified": True}
    notice = await smtp.mailbox.next()
    assert notice["To"] == "ada@example.com"
    assert "ada@new.example" in text_of(notice)
    assert (await login(accounts, "ada@new.example"))["access_token"]
    old = await accounts.post(
        "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401


async def test_an_address_taken_meanwhile_is_not_stolen(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    headers = bearer((await login(accounts))["access_token"])
    await accounts.post(
        "/auth/email", json={"new_email": "bob@example.com", "password": PASSWORD}, headers=headers
    )
    change = token_in(await smtp.mailbox.next())
    await register(accounts, smtp, "bob@example.com")
    taken = await verify(accounts, change)
    assert (taken.status_code, reason(taken)) == (409, "email_taken")
    me = (await accounts.get("/auth/me", headers=headers)).json()
    assert me["email"] == "ada@example.com"


async def test_a_verification_link_for_an_old_address_is_superseded(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    first = await register(accounts, smtp)
    headers = bearer((await login(accounts))["access_token"])
    await accounts.post(
        "/auth/email", json={"new_email": "ada@new.example", "password": PASSWORD}, headers=headers
    )
    await verify(accounts, token_in(await smtp.mailbox.next()))
    stale = await verify(accounts, first)
    assert (stale.status_code, reason(stale)) == (400, "token_superseded")
