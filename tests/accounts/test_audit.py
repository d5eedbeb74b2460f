"""The audit log as people read it: your own security activity, and the admins'
searchable list."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from netra.auth.models import AuditEvent
from netra.testing import PASSWORD, bearer
from tests.support.accounts import enrol, login, make_admin, register
from tests.support.smtp import SmtpServer, token_in

AGENT = "Ada's browser/1.0"
NEW_PASSWORD = "a different long passphrase"


async def test_own_activity_and_the_admin_search(
    accounts: httpx.AsyncClient, smtp: SmtpServer, database: Any
) -> None:
    await register(accounts, smtp)
    await register(accounts, smtp, "root@example.com")
    async with database() as session:
        await make_admin(session, "root@example.com")
    ada = bearer(
        (
            await accounts.post(
                "/auth/login",
                json={"email": "ada@example.com", "password": PASSWORD},
                headers={"User-Agent": "Ada's laptop"},
            )
        ).json()["access_token"]
    )
    await accounts.post("/auth/login", json={"email": "ada@example.com", "password": "wrong"})
    mine = (await accounts.get("/auth/activity", headers=ada)).json()
    events = [e["event"] for e in mine]
    assert events[:2] == ["login_failed", "login"]
    assert "register" in events
    assert mine[1]["detail"]["user_agent"] == "Ada's laptop"
    assert mine[1]["ip_address"]
    assert (await accounts.get("/auth/admin/audit", headers=ada)).status_code == 403

    admin = bearer((await login(accounts, "root@example.com"))["access_token"])
    found = (await accounts.get("/auth/admin/audit", params={"q": "ada@"}, headers=admin)).json()
    assert found
    assert {e["user_id"] for e in found} == {mine[0]["user_id"]}
    failed = await accounts.get(
        "/auth/admin/audit", params={"event": "login_failed"}, headers=admin
    )
    assert [e["event"] for e in failed.json()] == ["login_failed"]
    await accounts.post(
        "/auth/password/forgot",
        json={"email": "ada@example.com"},
        headers={"User-Agent": "Someone's phone"},
    )
    asked = await accounts.get(
        "/auth/admin/audit", params={"event": "password_reset_requested"}, headers=admin
    )
    [event] = asked.json()
    assert event["detail"]["user_agent"] == "Someone's phone"
    assert event["ip_address"]
    odd = await accounts.get("/auth/admin/audit", params={"q": "%_\\"}, headers=admin)
    assert odd.status_code == 200
    assert odd.json() == []


async def mailed(smtp: SmtpServer, to: str, subject: str) -> str:
    """The token of the next mail to `to` with `subject` (notices passed over)."""
    while True:
        message = await smtp.mailbox.next()
        if (message["To"], message["Subject"]) == (to, subject):
            return token_in(message)


async def test_every_security_event_a_request_causes_records_its_ip_and_user_agent(
    accounts: httpx.AsyncClient, smtp: SmtpServer, database: Any
) -> None:
    """Issue 16 item 7: audit rows carry actor, target, IP and user agent; `audit.record`
    takes the request's client (or None, said out loud, for an operator's command)."""
    accounts.headers["User-Agent"] = AGENT
    verify = await register(accounts, smtp)
    assert (await accounts.post("/auth/verify-email", json={"token": verify})).status_code == 200
    headers = bearer((await login(accounts))["access_token"])
    await enrol(accounts, headers)
    codes = await accounts.post(
        "/auth/mfa/recovery-codes", json={"password": PASSWORD}, headers=headers
    )
    assert codes.status_code == 200, codes.text
    key = await accounts.post(
        "/auth/api-keys", json={"name": "laptop", "password": PASSWORD}, headers=headers
    )
    assert key.status_code in (200, 201), key.text
    changed = await accounts.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    asked = await accounts.post(
        "/auth/email",
        json={"new_email": "ada@new.example", "password": NEW_PASSWORD},
        headers=headers,
    )
    assert asked.status_code == 202, asked.text
    change = await mailed(smtp, "ada@new.example", "Confirm your email address")
    assert (await accounts.post("/auth/verify-email", json={"token": change})).status_code == 200
    forgot = await accounts.post("/auth/password/forgot", json={"email": "ada@new.example"})
    assert forgot.status_code == 202
    reset = await mailed(smtp, "ada@new.example", "Reset your password")
    done = await accounts.post(
        "/auth/password/reset", json={"token": reset, "new_password": PASSWORD + " again"}
    )
    assert done.status_code == 200, done.text

    async with database() as session:
        rows = (await session.scalars(select(AuditEvent))).all()
    events = {row.event for row in rows}
    assert {
        "register",
        "email_verified",
        "login",
        "mfa_setup_started",
        "mfa_enabled",
        "mfa_recovery_codes_regenerated",
        "api_key_created",
        "password_changed",
        "api_keys_revoked",
        "email_change_requested",
        "email_changed",
        "password_reset_requested",
        "password_reset",
    } <= events
    missing = [
        row.event
        for row in rows
        if not row.ip_address or json.loads(row.detail).get("user_agent") != AGENT
    ]
    assert missing == []
