"""The browser's transport: the refresh token only in an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

import httpx

from netra.testing import PASSWORD, bearer
from tests.support.auth import reason

COOKIE = {"X-Netra-Refresh": "cookie"}


async def _login(client: httpx.AsyncClient) -> httpx.Response:
    email = "web@example.com"
    await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    response = await client.post(
        "/auth/login", json={"email": email, "password": PASSWORD}, headers=COOKIE
    )
    assert response.status_code == 200, response.text
    return response


async def test_login_sets_a_strict_httponly_cookie_and_keeps_the_token_out_of_the_body(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    response = await _login(auth_sqlite)
    assert response.json()["refresh_token"] is None
    [header] = [
        h for h in response.headers.get_list("set-cookie") if h.startswith("netra_refresh=")
    ]
    lowered = header.lower()
    assert "httponly" in lowered
    assert "samesite=strict" in lowered
    assert "path=/auth/refresh" in lowered
    assert "secure" not in lowered  # the test environment is local; staging gets Secure


async def test_refresh_reads_and_rotates_the_cookie(auth_sqlite: httpx.AsyncClient) -> None:
    await _login(auth_sqlite)
    first = auth_sqlite.cookies.get("netra_refresh")
    refreshed = await auth_sqlite.post("/auth/refresh", headers=COOKIE)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] is None
    assert auth_sqlite.cookies.get("netra_refresh") not in (None, first)
    me = await auth_sqlite.get("/auth/me", headers=bearer(refreshed.json()["access_token"]))
    assert me.status_code == 200


async def test_the_cookie_is_not_used_without_the_custom_header(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    await _login(auth_sqlite)
    # A cross-site form post cannot set the header: no body, no header, no refresh.
    refused = await auth_sqlite.post("/auth/refresh")
    assert refused.status_code == 422


async def test_a_foreign_origin_cannot_refresh(auth_sqlite: httpx.AsyncClient) -> None:
    await _login(auth_sqlite)
    refused = await auth_sqlite.post(
        "/auth/refresh", headers={**COOKIE, "Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert reason(refused) == "forbidden"


async def test_logout_clears_the_cookie_and_a_dead_cookie_is_cleared(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    login = await _login(auth_sqlite)
    stale = auth_sqlite.cookies.get("netra_refresh")
    out = await auth_sqlite.post(
        "/auth/logout", headers={**COOKIE, **bearer(login.json()["access_token"])}
    )
    assert out.status_code == 200
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert stale is not None
    auth_sqlite.cookies.set("netra_refresh", stale, path="/auth/refresh")
    refused = await auth_sqlite.post("/auth/refresh", headers=COOKIE)
    assert refused.status_code == 401
    assert "max-age=0" in refused.headers["set-cookie"].lower()


async def test_a_missing_cookie_is_a_401_the_ui_can_act_on(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    refused = await auth_sqlite.post("/auth/refresh", headers=COOKIE)
    assert refused.status_code == 401
    assert reason(refused) == "missing"


async def test_json_clients_still_get_the_refresh_token(auth_sqlite: httpx.AsyncClient) -> None:
    email = "sdk@example.com"
    await auth_sqlite.post("/auth/register", json={"email": email, "password": PASSWORD})
    login = await auth_sqlite.post("/auth/login", json={"email": email, "password": PASSWORD})
    token = login.json()["refresh_token"]
    assert token
    assert "set-cookie" not in login.headers
    again = await auth_sqlite.post("/auth/refresh", json={"refresh_token": token})
    assert again.status_code == 200
