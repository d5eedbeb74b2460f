"""Registration, sign-in, /auth/me, logout, password change: the paths users walk."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from netra.settings import Service
from netra.testing import PASSWORD, bearer, sign_up
from netra.tokens import verifier_for
from tests.support.apps import SettingsFactory
from tests.support.auth import AuthClientFactory, reason


async def test_register_login_me_refresh_logout(auth: httpx.AsyncClient) -> None:
    tokens = await sign_up(auth)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    me = await auth.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["session_id"] == tokens["session_id"]

    refreshed = await auth.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["session_id"] == tokens["session_id"]

    out = await auth.post("/auth/logout", headers=bearer(new["access_token"]))
    assert out.json() == {"revoked": 1}
    after = await auth.get("/auth/me", headers=bearer(new["access_token"]))
    assert after.status_code == 401
    assert reason(after) == "revoked"
    again = await auth.post("/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert again.status_code == 401
    assert reason(again) == "session_revoked"


async def test_sessions_are_listed_and_revocable(auth_sqlite: httpx.AsyncClient) -> None:
    first = await sign_up(auth_sqlite)
    second = (
        await auth_sqlite.post(
            "/auth/login",
            json={"email": "ada@example.com", "password": PASSWORD},
            headers={"User-Agent": "second-device"},
        )
    ).json()
    listed = await auth_sqlite.get("/auth/sessions", headers=bearer(first["access_token"]))
    assert listed.status_code == 200
    rows = {row["id"]: row for row in listed.json()}
    assert set(rows) == {first["session_id"], second["session_id"]}
    assert rows[first["session_id"]]["current"] is True
    assert rows[second["session_id"]]["user_agent"] == "second-device"

    gone = await auth_sqlite.delete(
        f"/auth/sessions/{second['session_id']}", headers=bearer(first["access_token"])
    )
    assert gone.status_code == 200
    me = await auth_sqlite.get("/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401


async def test_password_change_revokes_other_sessions(auth: httpx.AsyncClient) -> None:
    first = await sign_up(auth)
    other = (
        await auth.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    ).json()
    changed = await auth.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "a much newer passphrase"},
        headers=bearer(first["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"revoked": 1, "revoked_api_keys": 0}
    assert (await auth.get("/auth/me", headers=bearer(first["access_token"]))).status_code == 200
    refresh = await auth.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refresh.status_code == 401
    assert reason(refresh) == "session_revoked"
    old = await auth.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert old.status_code == 401


async def test_logout_all(auth_sqlite: httpx.AsyncClient) -> None:
    first = await sign_up(auth_sqlite)
    other = (
        await auth_sqlite.post(
            "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
    ).json()
    out = await auth_sqlite.post("/auth/logout-all", headers=bearer(first["access_token"]))
    assert out.json() == {"revoked": 2}
    for tokens in (first, other):
        refresh = await auth_sqlite.post(
            "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refresh.status_code == 401


async def test_jwks_and_token_config_are_published(auth_sqlite: httpx.AsyncClient) -> None:
    jwks = (await auth_sqlite.get("/.well-known/jwks.json")).json()
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["alg"] == "EdDSA"
    assert key["kty"] == "OKP"
    assert "d" not in key
    config = (await auth_sqlite.get("/.well-known/netra-auth.json")).json()
    assert config["algorithm"] == "EdDSA"
    assert config["issuer"] == "netra-auth"
    ready = (await auth_sqlite.get("/health/ready")).json()
    assert ready["checks"]["signing_key"]["status"] == "pass"


@pytest.mark.parametrize(
    ("env", "published"),
    [
        pytest.param({"TOKEN_ALGORITHM": "ES256"}, 1, id="es256"),
        pytest.param({"TOKEN_ALGORITHM": "HS256", "JWT_SECRET_TEST": "s" * 40}, 0, id="hs256"),
    ],
)
async def test_other_algorithms(
    auth_service: AuthClientFactory,
    make_settings: SettingsFactory,
    sqlite_env: dict[str, str],
    env: dict[str, str],
    published: int,
) -> None:
    async with auth_service(**env, **sqlite_env) as client:
        tokens = await sign_up(client)
        assert jwt.get_unverified_header(tokens["access_token"])["alg"] == env["TOKEN_ALGORITHM"]
        assert len((await client.get("/.well-known/jwks.json")).json()["keys"]) == published
        me = await client.get("/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200
        backend = make_settings([Service.BACKEND], AUTH_SERVICE_URL="http://testserver", **env)
        principal = await verifier_for(backend, client).verify(tokens["access_token"])
        assert principal.email == "ada@example.com"


async def test_a_token_lives_at_least_its_ttl(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    """`exp` counts from the moment of issue, rounded up, not from the whole second."""
    async with auth_service(ACCESS_TOKEN_TTL="2.5", **sqlite_env) as client:
        before = time.time()
        tokens = await sign_up(client)
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert tokens["expires_in"] == 3
        assert claims["exp"] >= before + 2.5
        assert claims["exp"] - claims["iat"] in (3, 4)
