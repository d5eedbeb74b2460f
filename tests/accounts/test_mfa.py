"""Two-factor sign-in with TOTP and recovery codes, and every way to misuse a code."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
from sqlalchemy import update

from netra.auth.models import AccountToken
from netra.db.base import utcnow
from netra.testing import PASSWORD, bearer
from tests.support.accounts import ServiceFactory, enrol, login, make_admin, register
from tests.support.auth import reason
from tests.support.smtp import SmtpServer


def code_at(totp: pyotp.TOTP, steps: int) -> str:
    """The code of the time step `steps` away from now."""
    return totp.generate_otp(totp.timecode(time.time()) + steps)


async def challenge(client: httpx.AsyncClient, email: str = "ada@example.com") -> str:
    answer = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["mfa_required"] is True
    assert body["methods"] == ["totp", "recovery_code"]
    assert "access_token" not in body
    assert "refresh_token" not in body
    return str(body["mfa_token"])


async def second_step(client: httpx.AsyncClient, token: str, **factor: str) -> httpx.Response:
    return await client.post("/auth/login/mfa", json={"mfa_token": token, **factor})


async def signed_up(client: httpx.AsyncClient, smtp: SmtpServer) -> dict[str, str]:
    await register(client, smtp)
    return bearer((await login(client))["access_token"])


async def test_enrolment_shows_a_qr_code_and_needs_a_code(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    headers = await signed_up(accounts, smtp)
    wrong = await accounts.post("/auth/mfa/totp/setup", json={"password": "nope"}, headers=headers)
    assert (wrong.status_code, reason(wrong)) == (403, "invalid_credentials")
    setup = await accounts.post(
        "/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=headers
    )
    body = setup.json()
    assert setup.headers["cache-control"] == "no-store"
    assert body["qr_svg"].startswith("<svg")
    uri = urlsplit(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [body["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["Netra"]
    bad = await accounts.post("/auth/mfa/totp/confirm", json={"code": "000000"}, headers=headers)
    assert (bad.status_code, reason(bad)) == (400, "invalid_code")
    me = (await accounts.get("/auth/me", headers=headers)).json()
    assert me["mfa_enabled"] is False  # not before a code confirmed it

    totp = pyotp.TOTP(body["secret"])
    done = await accounts.post("/auth/mfa/totp/confirm", json={"code": totp.now()}, headers=headers)
    codes = done.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert (await accounts.get("/auth/me", headers=headers)).json()["mfa_enabled"] is True
    again = await accounts.post(
        "/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=headers
    )
    assert (again.status_code, reason(again)) == (409, "mfa_already_enabled")
    notice = await smtp.mailbox.next()
    assert notice["Subject"] == "Two-factor sign-in was turned on"


async def test_sign_in_takes_two_steps_and_nothing_is_replayable(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    totp, _ = await enrol(accounts, await signed_up(accounts, smtp))
    token = await challenge(accounts)
    code = code_at(totp, 1)  # one step of clock skew is tolerated
    pair = await second_step(accounts, token, code=code)
    assert pair.status_code == 200, pair.text
    assert set(pair.json()) >= {"access_token", "refresh_token", "session_id"}

    replayed_token = await second_step(accounts, token, code=code_at(totp, 0))
    assert (replayed_token.status_code, reason(replayed_token)) == (401, "token_used")
    fresh = await challenge(accounts)
    replayed_code = await second_step(accounts, fresh, code=code)
    assert (replayed_code.status_code, reason(replayed_code)) == (401, "invalid_code")
    older = await second_step(accounts, fresh, code=code_at(totp, 0))  # before the one used
    assert (older.status_code, reason(older)) == (401, "invalid_code")


async def test_wrong_far_malformed_and_huge_codes(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    totp, _ = await enrol(accounts, await signed_up(accounts, smtp))
    token = await challenge(accounts)
    current = code_at(totp, 1)
    wrong = f"{(int(current) + 1) % 1_000_000:06d}"
    for bad in (
        wrong,
        code_at(totp, 2),
        code_at(totp, -2),
        "12345a",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        "",
        " " * 6,
    ):
        refused = await second_step(accounts, token, code=bad)
        assert (refused.status_code, reason(refused)) == (401, "invalid_code"), bad
    huge = await second_step(accounts, token, code="1" * 1000)
    assert (huge.status_code, reason(huge)) == (422, "invalid_request")
    both = await second_step(accounts, token, code=current, recovery_code="abcde-fghjk")
    assert (both.status_code, reason(both)) == (422, "invalid_request")
    # The enrolment spent the current step: the next one (skew allowed) completes it.
    assert (await second_step(accounts, token, code=code_at(totp, 1))).status_code == 200


async def test_recovery_codes_work_once_and_can_be_replaced(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    headers = await signed_up(accounts, smtp)
    _, codes = await enrol(accounts, headers)
    used = await second_step(accounts, await challenge(accounts), recovery_code=codes[0].upper())
    assert used.status_code == 200, used.text
    reused = await second_step(accounts, await challenge(accounts), recovery_code=codes[0])
    assert (reused.status_code, reason(reused)) == (401, "invalid_code")

    new = await accounts.post(
        "/auth/mfa/recovery-codes", json={"password": PASSWORD}, headers=headers
    )
    assert new.status_code == 200
    fresh = new.json()["recovery_codes"]
    old = await second_step(accounts, await challenge(accounts), recovery_code=codes[1])
    assert reason(old) == "invalid_code"
    spaced = fresh[0].replace("-", " ")
    assert (
        await second_step(accounts, await challenge(accounts), recovery_code=spaced)
    ).status_code == 200


async def test_challenge_tokens_expire_and_belong_to_one_account(
    accounts: httpx.AsyncClient, smtp: SmtpServer, database: Any
) -> None:
    ada, _ = await enrol(accounts, await signed_up(accounts, smtp))
    await register(accounts, smtp, "bob@example.com")
    bob, _ = await enrol(
        accounts, bearer((await login(accounts, "bob@example.com"))["access_token"])
    )
    ada_token = await challenge(accounts)
    foreign = await second_step(accounts, ada_token, code=bob.now())
    assert (foreign.status_code, reason(foreign)) == (401, "invalid_code")
    garbage = await second_step(accounts, "not-a-token", code=ada.now())
    assert (garbage.status_code, reason(garbage)) == (401, "invalid_token")
    async with database() as session:
        await session.execute(
            update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await second_step(accounts, ada_token, code=ada.now())
    assert (expired.status_code, reason(expired)) == (401, "token_expired")


async def test_code_guesses_count_against_the_sign_in_limit(
    service: ServiceFactory, smtp: SmtpServer
) -> None:
    async with service(LOGIN_LIMIT_PER_ACCOUNT="3") as client:
        totp, _ = await enrol(client, await signed_up(client, smtp))
        token = await challenge(client)
        for guess in ("111111", "222222", "333333"):
            assert reason(await second_step(client, token, code=guess)) == "invalid_code"
        blocked = await second_step(client, token, code=totp.now())
        assert (blocked.status_code, reason(blocked)) == (429, "rate_limited")
        password = await client.post(
            "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert password.status_code == 429  # the password step shares the count


async def test_parallel_code_guesses_are_reserved_before_they_are_checked(
    service: ServiceFactory, smtp: SmtpServer
) -> None:
    """Codes spend the sign-in's one guess budget (netra.auth.guesses), reserved before
    each is checked: ten at once against a limit of three, three are checked."""
    async with service(LOGIN_LIMIT_PER_ACCOUNT="3") as client:
        await enrol(client, await signed_up(client, smtp))
        token = await challenge(client)
        answers = await asyncio.gather(
            *(second_step(client, token, code=f"{i:06d}") for i in range(10))
        )
        assert sorted(a.status_code for a in answers) == [401] * 3 + [429] * 7


async def test_reauthentication_guesses_count_against_the_sign_in_limit(
    service: ServiceFactory, smtp: SmtpServer
) -> None:
    """Turning two-factor off or making recovery codes is no way around the limit."""
    async with service(LOGIN_LIMIT_PER_ACCOUNT="3") as client:
        headers = await signed_up(client, smtp)
        await enrol(client, headers)
        wrong = {"password": "not the password"}
        regenerate = await client.post("/auth/mfa/recovery-codes", json=wrong, headers=headers)
        assert reason(regenerate) == "invalid_credentials"
        for guess in ("111111", "222222"):
            off = await client.request(
                "DELETE",
                "/auth/mfa/totp",
                json={"password": PASSWORD, "code": guess},
                headers=headers,
            )
            assert reason(off) == "invalid_code"
        blocked = await client.post(
            "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert (blocked.status_code, reason(blocked)) == (429, "rate_limited")


async def test_disabling_needs_the_password_and_a_code(
    accounts: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    headers = await signed_up(accounts, smtp)
    totp, _ = await enrol(accounts, headers)
    url = "/auth/mfa/totp"
    wrong_password = await accounts.request(
        "DELETE", url, json={"password": "nope", "code": totp.now()}, headers=headers
    )
    assert reason(wrong_password) == "invalid_credentials"
    wrong_code = await accounts.request(
        "DELETE", url, json={"password": PASSWORD, "code": "000000"}, headers=headers
    )
    assert (wrong_code.status_code, reason(wrong_code)) == (400, "invalid_code")
    done = await accounts.request(
        "DELETE", url, json={"password": PASSWORD, "code": code_at(totp, 1)}, headers=headers
    )
    assert done.status_code == 204
    assert "access_token" in (await login(accounts))


async def test_admins_reset_mfa_and_may_be_required_to_use_it(
    service: ServiceFactory, smtp: SmtpServer, database: Any
) -> None:
    async with service(REQUIRE_MFA_FOR_ADMINS="true") as client:
        await register(client, smtp, "root@example.com")
        async with database() as session:
            await make_admin(session, "root@example.com")
        root = bearer((await login(client, "root@example.com"))["access_token"])
        refused = await client.get("/auth/admin/users", headers=root)
        assert (refused.status_code, reason(refused)) == (403, "mfa_required")
        root_totp, _ = await enrol(client, root)
        pair = await second_step(
            client, await challenge(client, "root@example.com"), code=code_at(root_totp, 1)
        )
        admin = bearer(pair.json()["access_token"])
        users = (await client.get("/auth/admin/users", headers=admin)).json()["users"]

        await register(client, smtp)
        ada_headers = bearer((await login(client))["access_token"])
        await enrol(client, ada_headers)
        ada = next(
            u["id"]
            for u in (await client.get("/auth/admin/users", headers=admin)).json()["users"]
            if u["email"] == "ada@example.com"
        )
        assert len(users) == 1
        denied = await client.delete(f"/auth/admin/users/{ada}/mfa", headers=ada_headers)
        assert denied.status_code == 403
        reset = await client.delete(f"/auth/admin/users/{ada}/mfa", headers=admin)
        assert reset.status_code == 204
        again = await client.delete(f"/auth/admin/users/{ada}/mfa", headers=admin)
        assert (again.status_code, reason(again)) == (409, "mfa_not_enabled")
        assert "access_token" in (await login(client))
        audit = (await client.get(f"/auth/admin/users/{ada}/audit", headers=admin)).json()
        reset_event = next(e for e in audit if e["event"] == "mfa_reset_by_admin")
        assert reset_event["actor"] is not None
