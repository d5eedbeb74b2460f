"""Client input never produces a 500: junk bodies at every endpoint that takes one, and
junk path parameters at those that take ids."""

from __future__ import annotations

import httpx
import pytest

from netra.testing import bearer, sign_up

BODIES = [
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"[]", id="array"),
    pytest.param(b"null", id="null"),
    pytest.param(b'{"email": 5, "password": ["x"]}', id="wrong-types"),
    pytest.param(b'{"email": "a@b.co", "password": {"$ne": null}}', id="operator-injection"),
    pytest.param(b"[" * 5000 + b"]" * 5000, id="deep-nesting"),
    pytest.param(b'{"refresh_token": "\\u0000"}', id="nul-escape"),
    pytest.param(b"\xff\xfe\x00", id="binary"),
]
ENDPOINTS = [
    "/auth/register",
    "/auth/login",
    "/auth/refresh",
    "/auth/password",
    "/auth/api-keys",
    "/auth/service-token",
    "/auth/api-keys/introspect",
]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("body", BODIES)
async def test_junk_bodies_get_a_4xx_with_a_message(
    auth_sqlite: httpx.AsyncClient, path: str, body: bytes
) -> None:
    answer = await auth_sqlite.post(
        path, content=body, headers={"Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert answer.json()["detail"]


@pytest.mark.parametrize(
    "ident",
    ["x" * 5000, "'; DROP TABLE users; --", "%00", "..%2f..%2fetc", "\u202e"],
    ids=["long", "sql", "nul", "traversal", "bidi"],
)
async def test_junk_ids_get_a_4xx(auth_sqlite: httpx.AsyncClient, ident: str) -> None:
    tokens = await sign_up(auth_sqlite)
    for method, path in (
        ("DELETE", f"/auth/sessions/{ident}"),
        ("DELETE", f"/auth/api-keys/{ident}"),
        ("POST", f"/auth/admin/users/{ident}/disable"),
        ("DELETE", f"/auth/admin/users/{ident}"),
    ):
        answer = await auth_sqlite.request(method, path, headers=bearer(tokens["access_token"]))
        assert 400 <= answer.status_code < 500, (path, answer.text[:200])
