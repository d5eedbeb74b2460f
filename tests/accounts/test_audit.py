"""The audit log as people read it: your own security activity, and the admins'
searchable list."""

from __future__ import annotations

from typing import Any

import httpx

from netra.testing import PASSWORD, bearer
from tests.support.accounts import login, make_admin, register
from tests.support.smtp import SmtpServer


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
