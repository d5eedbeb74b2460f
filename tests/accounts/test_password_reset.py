"""Forgotten passwords: the link, what using it ends, and every way to misuse it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from typer.testing import CliRunner

from netra.auth.models import AccountToken
from netra.cli import app as cli
from netra.db.base import utcnow
from netra.testing import PASSWORD, bearer
from tests.support.accounts import ServiceFactory, login, make_admin, register
from tests.support.auth import reason
from tests.support.smtp import SmtpServer, link_in, text_of, token_in

NEW_PASSWORD = "a much better passphrase"


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/auth/password/forgot", json={"email": email})


async def reset(
    client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/auth/password/reset", json={"token": token, "new_password": password}
    )


async def test_reset_sets_the_password_and_ends_every_session_and_key(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    session = await login(accounts)
    key = await accounts.post(
        "/auth/api-keys",
        json={"name": "script", "password": PASSWORD},
        headers=bearer(session["access_token"]),
    )
    assert key.status_code == 201, key.text
    api_key = key.json()["api_key"]
    notice = await smtp.mailbox.next()
    assert notice["Subject"] == "A new API key was created"
    assert "script" in text_of(notice)

    asked = await forgot(accounts, "ADA@example.com")
    assert asked.status_code == 202
    message = await smtp.mailbox.next()
    assert message["To"] == "ada@example.com"
    assert "/reset-password?token=" in link_in(message)
    assert "30 minutes" in text_of(message)

    done = await reset(accounts, token_in(message))
    assert done.status_code == 200, done.text
    assert done.json() == {"revoked": 1}
    notice = await smtp.mailbox.next()
    assert notice["Subject"] == "Your password was changed"

    me = await accounts.get("/auth/me", headers=bearer(session["access_token"]))
    assert reason(me) == "revoked"
    refresh = await accounts.post("/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert refresh.status_code == 401
    by_key = await accounts.get("/auth/me", headers=bearer(api_key))
    assert by_key.status_code == 401
    old = await accounts.post(
        "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert reason(old) == "invalid_credentials"
    fresh = await login(accounts, password=NEW_PASSWORD)
    me = await accounts.get("/auth/me", headers=bearer(fresh["access_token"]))
    assert me.json()["email_verified"] is True  # the link reached the address


async def test_forgot_answers_alike_for_known_and_unknown_addresses(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    known = await forgot(accounts, "ada@example.com")
    unknown = await forgot(accounts, "nobody@example.com")
    invalid = await forgot(accounts, "not an address")
    assert known.status_code == unknown.status_code == invalid.status_code == 202
    assert known.content == unknown.content == invalid.content
    assert (await smtp.mailbox.next())["To"] == "ada@example.com"
    await register(accounts, smtp, "bob@example.com")  # the next mail is bob's: none for nobody


async def test_reused_expired_tampered_foreign_and_weak(
    accounts: httpx.AsyncClient, smtp: SmtpServer, database: Any
) -> None:
    verification = await register(accounts, smtp)
    await forgot(accounts, "ada@example.com")
    token = token_in(await smtp.mailbox.next())

    foreign = await reset(accounts, verification)
    assert (foreign.status_code, reason(foreign)) == (400, "invalid_token")
    tampered = await reset(accounts, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert (tampered.status_code, reason(tampered)) == (400, "invalid_token")
    weak = await reset(accounts, token, "password")
    assert (weak.status_code, reason(weak)) == (422, "invalid_request")
    assert (await reset(accounts, token)).status_code == 200  # a weak try did not burn it
    reused = await reset(accounts, token, "yet another passphrase")
    assert (reused.status_code, reason(reused)) == (400, "token_used")

    await forgot(accounts, "ada@example.com")
    while (message := await smtp.mailbox.next())["Subject"] != "Reset your password":
        pass  # the notice of the first reset comes first
    async with database() as session:
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await reset(accounts, token_in(message))
    assert (expired.status_code, reason(expired)) == (400, "token_expired")


async def test_a_link_is_dead_once_the_password_changed_another_way(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    await register(accounts, smtp)
    await forgot(accounts, "ada@example.com")
    token = token_in(await smtp.mailbox.next())
    session = await login(accounts)
    changed = await accounts.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(session["access_token"]),
    )
    assert changed.status_code == 200
    stale = await reset(accounts, token, "the attacker's passphrase")
    assert (stale.status_code, reason(stale)) == (400, "token_superseded")


async def test_limits_per_address_and_per_ip(service: ServiceFactory, smtp: SmtpServer) -> None:
    async with service(LOGIN_LIMIT_PER_IP="5") as client:
        await register(client, smtp)
        for _ in range(4):
            assert (await forgot(client, "ada@example.com")).status_code == 202
        for _ in range(3):
            assert "/reset-password" in link_in(await smtp.mailbox.next())
        blocked = await forgot(client, "bob@example.com")
        assert blocked.status_code == 202  # the 5th from this IP still passes
        refused = await forgot(client, "bob@example.com")
        assert (refused.status_code, reason(refused)) == (429, "rate_limited")
        # The outbox sends in order: had the 4th request for ada queued a mail, it would
        # arrive before eve's.
        await client.post("/auth/register", json={"email": "eve@example.com", "password": PASSWORD})
        assert (await smtp.mailbox.next())["To"] == "eve@example.com"


async def test_admin_mails_a_reset_link(
    accounts: httpx.AsyncClient, smtp: SmtpServer, database: Any
) -> None:
    await register(accounts, smtp, "root@example.com")
    await register(accounts, smtp)
    async with database() as session:
        await make_admin(session, "root@example.com")
    admin = bearer((await login(accounts, "root@example.com"))["access_token"])
    user = bearer((await login(accounts))["access_token"])
    users = (await accounts.get("/auth/admin/users", headers=admin)).json()["users"]
    ada = next(u["id"] for u in users if u["email"] == "ada@example.com")

    denied = await accounts.post(f"/auth/admin/users/{ada}/password-reset", headers=user)
    assert denied.status_code == 403
    missing = await accounts.post("/auth/admin/users/no-such-id/password-reset", headers=admin)
    assert (missing.status_code, reason(missing)) == (404, "not_found")
    sent = await accounts.post(f"/auth/admin/users/{ada}/password-reset", headers=admin)
    assert sent.status_code == 202
    assert (await reset(accounts, token_in(await smtp.mailbox.next()))).status_code == 200
    audit = (await accounts.get(f"/auth/admin/users/{ada}/audit", headers=admin)).json()
    events = [event["event"] for event in audit]
    assert "password_reset_sent_by_admin" in events
    assert "password_reset" in events


async def test_operators_get_a_one_time_link_from_the_command_line(
    accounts: httpx.AsyncClient, smtp: SmtpServer, mail_env: dict[str, str], tmp_path: Path
) -> None:
    await register(accounts, smtp)
    env = {"ENVIRONMENT": "test", "DATA_DIR": str(tmp_path / "data"), **mail_env}
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["users", "reset-password", "ada@example.com"], env=env
    )
    assert result.exit_code == 0, result.output
    link = result.stdout.strip().splitlines()[-1]
    assert link.startswith("https://chat.example.test/reset-password?token=")
    token = link.split("token=")[1]
    assert (await reset(accounts, token)).status_code == 200
    unknown = await asyncio.to_thread(
        CliRunner().invoke, cli, ["users", "reset-password", "nobody@example.com"], env=env
    )
    assert unknown.exit_code == 1
    assert "no account" in unknown.output
