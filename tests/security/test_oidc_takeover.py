"""Issue 15 item 4: no pre-account takeover through OIDC.

The attack on main: Mallory registers `victim@example.com` with a password of hers;
when the victim later signs in with a provider vouching for that email, Netra linked
the provider to Mallory's account, which kept her password and sessions. Hostile cases:
that attack with a default provider and with `TRUST_EMAIL=true` (Netra has not verified
the account's email, so still no automatic link); an account whose address Netra did
verify, joined by itself only by a provider with `TRUST_EMAIL=true`; an untrusted
provider's `email_verified` never counting as Netra's verification; the link attempted
with a wrong or missing password, a forged or expired link cookie, and a guessing loop
(rate-limited);
an unverified email probing whether an account exists (one answer either way);
`netra users create-admin` on an address someone registered first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from netra.auth.app import create_app
from netra.auth.models import OidcIdentity, User, UserSession
from netra.auth.oidc.linking import email_verified_by_netra
from netra.cli import app as cli
from netra.db.base import utcnow
from netra.settings import Service
from netra.testing import PASSWORD, bearer
from tests.oidc.browser import sign_in
from tests.support.apps import SettingsFactory, running
from tests.support.oidc import Netra, Provider, netra_with, oidc_env

VICTIM = "victim@example.com"
MALLORY_PASSWORD = "mallory's own passphrase 7"


@pytest.fixture(params=["false", "true"], ids=["default-provider", "trust-email"])
async def netra(
    request: pytest.FixtureRequest,
    provider: Provider,
    make_settings: SettingsFactory,
    tmp_path: Path,
) -> object:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}",
        **oidc_env(provider, OIDC_TEST_TRUST_EMAIL=request.param),
    }
    async for started in netra_with(env, make_settings):
        yield started


async def counts(netra: Netra) -> tuple[int, int]:
    async with netra.app.state.runtime.db() as db:
        identities = await db.scalar(select(func.count()).select_from(OidcIdentity))
        sessions = await db.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.auth_method != "password")
        )
    return identities or 0, sessions or 0


async def mallory_registers_first(netra: Netra) -> dict[str, str]:
    body = {"email": VICTIM, "password": MALLORY_PASSWORD}
    assert (await netra.api.post("/auth/register", json=body)).status_code == 201
    login = await netra.api.post("/auth/login", json=body)
    return {"access_token": login.json()["access_token"]}


async def test_a_provider_sign_in_never_joins_a_preregistered_account(netra: Netra) -> None:
    mallory = await mallory_registers_first(netra)
    done = await sign_in(netra.browser, login=VICTIM)
    assert done.status_code == 303  # the same answer as a sign-in that is ready
    assert "netra_oidc_handoff" not in done.cookies
    waiting = await netra.browser.post("/auth/oidc/session")
    assert waiting.status_code == 409
    assert waiting.json()["detail"]["reason"] == "link_required"
    assert await counts(netra) == (0, 0)  # nothing linked, no session for anyone
    identities = await netra.api.get(
        "/auth/oidc/identities", headers=bearer(mallory["access_token"])
    )
    assert identities.json() == []


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("", id="missing"),
        pytest.param("not mallory's password", id="wrong"),
        pytest.param(PASSWORD, id="someone-else's"),
    ],
)
async def test_the_link_needs_the_existing_accounts_password(netra: Netra, password: str) -> None:
    await mallory_registers_first(netra)
    await sign_in(netra.browser, login=VICTIM)
    answer = await netra.browser.post("/auth/oidc/link", json={"password": password})
    assert answer.status_code == 401
    assert answer.json()["detail"]["reason"] == "invalid_credentials"
    assert await counts(netra) == (0, 0)


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(None, id="no-cookie"),
        pytest.param("garbage", id="garbage"),
        pytest.param("eyJ1c2VyX2lkIjogIngifQ.forged-mac", id="forged"),
    ],
)
async def test_a_link_without_a_genuine_pending_sign_in_is_refused(
    netra: Netra, cookie: str | None
) -> None:
    await mallory_registers_first(netra)
    if cookie:
        netra.api.cookies.set("netra_oidc_link", cookie)
    answer = await netra.api.post("/auth/oidc/link", json={"password": MALLORY_PASSWORD})
    assert answer.status_code == 401
    assert answer.json()["detail"]["reason"] == "invalid_link"


async def test_the_owner_links_with_the_password_and_later_sign_ins_find_the_account(
    netra: Netra,
) -> None:
    """The legitimate case: the account's owner proves it with the password."""
    await mallory_registers_first(netra)  # here: the real owner registered with a password
    await sign_in(netra.browser, login=VICTIM)
    linked = await netra.browser.post("/auth/oidc/link", json={"password": MALLORY_PASSWORD})
    assert linked.status_code == 200, linked.text
    again = await netra.browser.post("/auth/oidc/link", json={"password": MALLORY_PASSWORD})
    assert again.status_code == 401  # the pending link was spent (its cookie cleared)
    assert (await sign_in(netra.browser, login=VICTIM)).status_code == 303
    assert (await netra.browser.post("/auth/oidc/session")).status_code == 200


async def test_guessing_the_password_through_the_link_is_rate_limited(netra: Netra) -> None:
    await mallory_registers_first(netra)
    await sign_in(netra.browser, login=VICTIM)
    answers = await asyncio.gather(
        *(netra.browser.post("/auth/oidc/link", json={"password": f"guess {i}"}) for i in range(12))
    )
    assert sorted(a.status_code for a in answers) == [401] * 10 + [429] * 2


async def test_an_unverified_email_cannot_probe_for_accounts(netra: Netra) -> None:
    await mallory_registers_first(netra)
    taken = await sign_in(netra.browser, login=f"unverified:{VICTIM}")
    netra.browser.cookies.clear()  # a new session at the provider, as someone else
    free = await sign_in(netra.browser, login="unverified:nobody@example.com")
    assert taken.status_code == free.status_code == 403
    assert taken.json()["detail"]["reason"] == free.json()["detail"]["reason"]
    assert taken.json()["detail"]["message"].replace(VICTIM, "X") == free.json()["detail"][
        "message"
    ].replace("nobody@example.com", "X")


def test_only_an_address_netra_confirmed_counts_as_verified() -> None:
    """The one function item 4's rule asks reads the account's verification state."""
    assert email_verified_by_netra(User(email=VICTIM)) is False
    assert email_verified_by_netra(User(email=VICTIM, email_verified_at=utcnow())) is True


def trusts_email(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.callspec.params["netra"] == "true")


async def netra_confirms(netra: Netra, email: str) -> None:
    """What a used verification link leaves behind (netra.auth.verification)."""
    async with netra.app.state.runtime.db() as db, db.begin():
        user = await db.scalar(select(User).where(User.email == email))
        assert user is not None
        user.email_verified_at = utcnow()


async def test_an_account_netra_verified_joins_only_a_provider_trusted_with_emails(
    netra: Netra, request: pytest.FixtureRequest
) -> None:
    await mallory_registers_first(netra)  # here: the owner, who then confirmed the address
    await netra_confirms(netra, VICTIM)
    await sign_in(netra.browser, login=VICTIM)
    answer = await netra.browser.post("/auth/oidc/session")
    if trusts_email(request):
        assert answer.status_code == 200, answer.text
        assert await counts(netra) == (1, 1)
    else:
        assert answer.status_code == 409
        assert answer.json()["detail"]["reason"] == "link_required"
        assert await counts(netra) == (0, 0)


async def test_only_a_provider_trusted_with_emails_verifies_an_address(
    netra: Netra, request: pytest.FixtureRequest
) -> None:
    """An untrusted provider's email_verified must not make the address verified by
    Netra: a trusted provider's sign-in would then join that account by itself."""
    await sign_in(netra.browser, login="newcomer@example.com")
    assert (await netra.browser.post("/auth/oidc/session")).status_code == 200
    async with netra.app.state.runtime.db() as db:
        user = await db.scalar(select(User).where(User.email == "newcomer@example.com"))
    assert user is not None
    assert email_verified_by_netra(user) is trusts_email(request)


async def test_create_admin_refuses_an_existing_account_without_promote(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'admin.db'}"
    env = {"ENVIRONMENT": "test", "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database}
    async with running(create_app(make_settings([Service.AUTH], DATABASE_URL=database))) as api:
        body = {"email": VICTIM, "password": MALLORY_PASSWORD}
        assert (await api.post("/auth/register", json=body)).status_code == 201

    def run(*args: str) -> object:
        return CliRunner().invoke(cli, ["users", "create-admin", VICTIM, *args], env=env)

    refused = await asyncio.to_thread(run)
    assert refused.exit_code == 2  # type: ignore[attr-defined]
    assert "--promote" in refused.output  # type: ignore[attr-defined]
    async with running(create_app(make_settings([Service.AUTH], DATABASE_URL=database))) as api:
        login = await api.post("/auth/login", json={"email": VICTIM, "password": MALLORY_PASSWORD})
        me = await api.get("/auth/me", headers=bearer(login.json()["access_token"]))
        assert me.json()["role"] == "user"
    promoted = await asyncio.to_thread(run, "--promote")
    assert promoted.exit_code == 0, promoted.output  # type: ignore[attr-defined]
