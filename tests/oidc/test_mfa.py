"""An OIDC sign-in into an account with two-factor sign-in asks for the code, as a
password sign-in does (issue 16): neither `/auth/oidc/session` nor `/auth/oidc/link`
hands out tokens (or makes the link) before POST /auth/login/mfa accepts a TOTP or
recovery code. Hostile cases: the provider alone, the link with the password alone, a
wrong code, a replayed code, a replayed challenge, a challenge used for another account."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pyotp
from sqlalchemy import func, select

from netra.auth.mfa import two_factor
from netra.auth.models import AuditEvent, OidcIdentity, UserSession
from netra.testing import PASSWORD, bearer
from tests.oidc.browser import sign_in
from tests.support.accounts import enrol
from tests.support.auth import reason
from tests.support.oidc import Netra

ADA = "ada@example.com"


async def password_account_with_mfa(netra: Netra, email: str = ADA) -> tuple[pyotp.TOTP, list[str]]:
    """A password account, TOTP turned on."""
    created = await netra.api.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    signed = await netra.api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return await enrol(netra.api, bearer(signed.json()["access_token"]))


async def challenged(answer: httpx.Response) -> str:
    """The `mfa_required` answer: a challenge token and nothing that signs in."""
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["mfa_required"] is True
    assert body["methods"] == ["totp", "recovery_code"]
    assert not {"access_token", "refresh_token", "session_id"} & set(body)
    assert "netra_refresh" not in answer.headers.get("set-cookie", "")
    return str(body["mfa_token"])


async def sessions_and_links(netra: Netra) -> tuple[list[str], int]:
    async with netra.app.state.runtime.db() as db:
        methods = list(await db.scalars(select(UserSession.auth_method)))
        links = await db.scalar(select(func.count()).select_from(OidcIdentity))
    return sorted(methods), int(links or 0)


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next time step (the current one was spent confirming enrolment)."""
    return totp.generate_otp(totp.timecode(time.time()) + 1)


async def link_password(netra: Netra) -> httpx.Response:
    return await netra.browser.post("/auth/oidc/link", json={"password": PASSWORD})


async def linked_with_mfa(netra: Netra) -> tuple[pyotp.TOTP, list[str]]:
    """Ada's password account with TOTP, linked to the provider (password and the first
    recovery code, so that the next TOTP step is left for the test)."""
    totp, recovery = await password_account_with_mfa(netra)
    assert (await sign_in(netra.browser, login=ADA)).status_code == 303
    token = await challenged(await link_password(netra))
    done = await netra.api.post(
        "/auth/login/mfa", json={"mfa_token": token, "recovery_code": recovery[0]}
    )
    assert done.status_code == 200, done.text
    return totp, recovery


async def test_linking_into_an_mfa_account_with_the_password_alone_gives_no_tokens_and_no_link(
    netra: Netra,
) -> None:
    totp, _ = await password_account_with_mfa(netra)
    assert (await sign_in(netra.browser, login=ADA)).status_code == 303
    waiting = await netra.browser.post("/auth/oidc/session")
    assert (waiting.status_code, reason(waiting)) == (409, "link_required")
    token = await challenged(await link_password(netra))
    assert await sessions_and_links(netra) == (["password"], 0)  # the enrolment's session only

    wrong = await netra.api.post("/auth/login/mfa", json={"mfa_token": token, "code": "000000"})
    assert (wrong.status_code, reason(wrong)) == (401, "invalid_code")
    assert await sessions_and_links(netra) == (["password"], 0)

    done = await netra.api.post(
        "/auth/login/mfa", json={"mfa_token": token, "code": next_code(totp)}
    )
    assert done.status_code == 200, done.text
    me = await netra.api.get("/auth/me", headers=bearer(done.json()["access_token"]))
    assert me.json()["email"] == ADA
    assert await sessions_and_links(netra) == (["password", "password+totp"], 1)
    async with netra.app.state.runtime.db() as db:
        linked = await db.scalar(select(AuditEvent).where(AuditEvent.event == "oidc_linked"))
    assert linked is not None
    assert linked.ip_address
    assert json.loads(linked.detail)["user_agent"].startswith("python-httpx/")


async def test_oidc_sign_in_into_an_mfa_account_gives_no_tokens_without_the_code(
    netra: Netra,
) -> None:
    totp, _ = await linked_with_mfa(netra)
    before = await sessions_and_links(netra)
    assert (await sign_in(netra.browser, login=ADA)).status_code == 303
    token = await challenged(await netra.browser.post("/auth/oidc/session"))
    assert await sessions_and_links(netra) == before  # the provider alone starts nothing
    code = next_code(totp)
    done = await netra.api.post("/auth/login/mfa", json={"mfa_token": token, "code": code})
    assert done.status_code == 200, done.text
    signed_in = await sessions_and_links(netra)
    assert signed_in == (sorted([*before[0], "oidc:test+totp"]), 1)

    # The next sign-in at the provider: the code already spent is refused.
    assert (await sign_in(netra.browser, login=ADA)).status_code == 303
    token = await challenged(await netra.browser.post("/auth/oidc/session"))
    replayed = await netra.api.post("/auth/login/mfa", json={"mfa_token": token, "code": code})
    assert (replayed.status_code, reason(replayed)) == (401, "invalid_code")
    assert await sessions_and_links(netra) == signed_in


async def test_oidc_sign_in_completed_by_a_recovery_code_counts_as_two_factors(
    netra: Netra,
) -> None:
    _, recovery = await linked_with_mfa(netra)
    assert (await sign_in(netra.browser, login=ADA)).status_code == 303
    token = await challenged(await netra.browser.post("/auth/oidc/session"))
    reused = await netra.api.post(
        "/auth/login/mfa", json={"mfa_token": token, "recovery_code": recovery[0]}
    )
    assert (reused.status_code, reason(reused)) == (401, "invalid_code")
    done = await netra.api.post(
        "/auth/login/mfa", json={"mfa_token": token, "recovery_code": recovery[1]}
    )
    assert done.status_code == 200, done.text
    methods, links = await sessions_and_links(netra)
    assert "oidc:test+recovery_code" in methods
    assert links == 1
    assert two_factor("oidc:test+recovery_code")  # e.g. for REQUIRE_MFA_FOR_ADMINS
    again = await netra.api.post(
        "/auth/login/mfa", json={"mfa_token": token, "recovery_code": recovery[2]}
    )
    assert (again.status_code, reason(again)) == (401, "token_used")


async def test_an_oidc_challenge_is_single_use_and_not_another_accounts(netra: Netra) -> None:
    totp, _ = await linked_with_mfa(netra)
    other_totp, _ = await password_account_with_mfa(netra, "bo@example.com")
    assert (await sign_in(netra.browser, login=ADA)).status_code == 303
    token = await challenged(await netra.browser.post("/auth/oidc/session"))
    # Bo's code does not complete Ada's sign-in.
    foreign = await netra.api.post(
        "/auth/login/mfa", json={"mfa_token": token, "code": other_totp.now()}
    )
    assert (foreign.status_code, reason(foreign)) == (401, "invalid_code")
    handoff_again = await netra.browser.post("/auth/oidc/session")
    assert (handoff_again.status_code, reason(handoff_again)) == (401, "invalid_handoff")
    code = next_code(totp)
    done = await netra.api.post("/auth/login/mfa", json={"mfa_token": token, "code": code})
    assert done.status_code == 200, done.text
    replay = await netra.api.post("/auth/login/mfa", json={"mfa_token": token, "code": code})
    assert (replay.status_code, reason(replay)) == (401, "token_used")
    methods, _ = await sessions_and_links(netra)
    assert methods.count("oidc:test+totp") == 1
