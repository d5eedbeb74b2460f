"""Helpers of the accounts suite (tests/accounts): register, sign in, enrol TOTP, make
an admin, the auth service mailing to the test's SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pyotp
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from netra.auth.models import User
from netra.testing import PASSWORD
from tests.support.smtp import SmtpServer, token_in

PUBLIC_URL = "https://chat.example.test"
ServiceFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


async def register(
    client: httpx.AsyncClient, smtp: SmtpServer, email: str = "ada@example.com"
) -> str:
    """Register; returns the token of the verification link mailed (notices of earlier
    steps that arrive first are passed over)."""
    answer = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    while True:
        message = await smtp.mailbox.next()
        if (message["To"], message["Subject"]) == (email, "Confirm your email address"):
            return token_in(message)


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    answer = await client.post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def make_admin(session: AsyncSession, email: str) -> None:
    await session.execute(update(User).where(User.email == email).values(role="admin"))


async def enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[pyotp.TOTP, list[str]]:
    """Turn on TOTP for the signed-in account: its authenticator and recovery codes."""
    setup = await client.post("/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=headers)
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    confirmed = await client.post(
        "/auth/mfa/totp/confirm", json={"code": totp.now()}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["recovery_codes"]
