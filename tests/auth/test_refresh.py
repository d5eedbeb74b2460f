"""Refresh tokens: rotation, replay detection, one winner of concurrent refreshes, and
every way a session ends (modelled on supabase/auth's and ory/fosite's refresh suites)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from netra.testing import PASSWORD, bearer, sign_up
from tests.support.auth import AuthClientFactory, reason


@pytest.fixture
async def strict(
    auth_service: AuthClientFactory, database_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """No reuse grace: any second use of a refresh token is a replay."""
    async with auth_service(REFRESH_REUSE_GRACE="0", **database_env) as client:
        yield client


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": token})


async def test_replay_of_a_rotated_token_revokes_the_family(strict: httpx.AsyncClient) -> None:
    first = await sign_up(strict)
    second = (await refresh(strict, first["refresh_token"])).json()
    third = (await refresh(strict, second["refresh_token"])).json()
    replay = await refresh(strict, first["refresh_token"])
    assert replay.status_code == 401
    assert reason(replay) == "refresh_token_reused"
    newest = await refresh(strict, third["refresh_token"])
    assert newest.status_code == 401
    assert reason(newest) == "session_revoked"
    me = await strict.get("/auth/me", headers=bearer(third["access_token"]))
    assert me.status_code == 401


async def test_reuse_within_the_grace_does_not_revoke(
    auth_service: AuthClientFactory, database_env: dict[str, str]
) -> None:
    # A grace far longer than the test: on a loaded machine two requests can be seconds
    # apart, and this test is about the rule, not the default's length.
    async with auth_service(REFRESH_REUSE_GRACE="600", **database_env) as auth:
        first = await sign_up(auth)
        second = (await refresh(auth, first["refresh_token"])).json()
        again = await refresh(auth, first["refresh_token"])
        assert again.status_code == 401
        assert reason(again) == "refresh_token_rotated"
        assert (await refresh(auth, second["refresh_token"])).status_code == 200


@pytest.mark.parametrize("parallel", [2, 8])
async def test_parallel_refreshes_yield_exactly_one_successor(
    strict: httpx.AsyncClient, parallel: int
) -> None:
    first = await sign_up(strict)
    answers = await asyncio.gather(
        *(refresh(strict, first["refresh_token"]) for _ in range(parallel))
    )
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1, [a.text for a in answers]
    assert all(a.status_code == 401 for a in answers if a is not winners[0])


Tokens = dict[str, str]


async def _logout(client: httpx.AsyncClient, tokens: Tokens, admin: Tokens) -> None:
    await client.post("/auth/logout", headers=bearer(tokens["access_token"]))


async def _logout_all(client: httpx.AsyncClient, tokens: Tokens, admin: Tokens) -> None:
    await client.post("/auth/logout-all", headers=bearer(tokens["access_token"]))


async def _password_change(client: httpx.AsyncClient, tokens: Tokens, admin: Tokens) -> None:
    other = (
        await client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    ).json()
    changed = await client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "another long passphrase"},
        headers=bearer(other["access_token"]),
    )
    assert changed.status_code == 200


async def _disable(client: httpx.AsyncClient, tokens: Tokens, admin: Tokens) -> None:
    me = (await client.get("/auth/me", headers=bearer(tokens["access_token"]))).json()
    disabled = await client.post(
        f"/auth/admin/users/{me['id']}/disable", headers=bearer(admin["access_token"])
    )
    assert disabled.status_code == 200, disabled.text


Ending = Callable[[httpx.AsyncClient, Tokens, Tokens], Awaitable[None]]


@pytest.mark.parametrize(
    "end",
    [
        pytest.param(_logout, id="after-logout"),
        pytest.param(_logout_all, id="after-logout-all"),
        pytest.param(_password_change, id="after-password-change"),
        pytest.param(_disable, id="after-disable"),
    ],
)
async def test_refresh_after_the_session_ended(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str], end: Ending
) -> None:
    async with auth_service(ENVIRONMENT="development", **sqlite_env) as client:
        admin = await sign_up(client, "root@example.com")  # the first account: admin in dev
        tokens = await sign_up(client)
        await end(client, tokens, admin)
        answer = await refresh(client, tokens["refresh_token"])
        assert answer.status_code == 401
        assert reason(answer) == "session_revoked"


async def test_refresh_past_the_absolute_session_lifetime(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(SESSION_MAX_AGE="1", **sqlite_env) as client:
        tokens = await sign_up(client)
        await asyncio.sleep(1.1)
        answer = await refresh(client, tokens["refresh_token"])
        assert answer.status_code == 401
        assert reason(answer) == "refresh_token_expired"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-token", id="unknown"),
        pytest.param("A" * 1000, id="long"),
        pytest.param("' OR 1=1 --", id="sql"),
        pytest.param("\x00abc", id="nul"),
    ],
)
async def test_invalid_refresh_tokens(auth_sqlite: httpx.AsyncClient, token: str) -> None:
    answer = await refresh(auth_sqlite, token)
    assert answer.status_code == 401
    assert reason(answer) == "invalid_refresh_token"


async def test_a_half_megabyte_refresh_token_is_refused(auth_sqlite: httpx.AsyncClient) -> None:
    answer = await refresh(auth_sqlite, "A" * (1 << 19))
    assert answer.status_code == 422
    assert "A" * 100 not in answer.text


async def test_an_access_token_is_not_a_refresh_token(auth_sqlite: httpx.AsyncClient) -> None:
    tokens = await sign_up(auth_sqlite)
    answer = await refresh(auth_sqlite, tokens["access_token"])
    assert answer.status_code in (401, 422)
