"""The backend's side against a real auth service (in-process ASGI, real databases):
JWKS fetched over HTTP, service tokens, revocation polling, API keys, mismatches."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import update

from netra import db
from netra.auth.app import create_app
from netra.auth.models import User
from netra.settings import Service, Settings
from netra.testing import PASSWORD, bearer, eventually, free_port, sign_up
from netra.tokens import (
    AuthServiceTokens,
    JwksKeys,
    TokenConfigMismatch,
    TokenRejected,
    verifier_for,
)
from netra.tokens.api_key_resolver import MAX_IN_FLIGHT, HttpApiKeyResolver
from tests.support.apps import SettingsFactory, running
from tests.support.tokens import SECRET


def backend_settings(make_settings: SettingsFactory, **env: str):  # type: ignore[no-untyped-def]
    return make_settings(
        [Service.BACKEND], AUTH_SERVICE_URL="http://auth.test", SERVICE_SECRET=SECRET, **env
    )


async def test_a_token_minted_by_auth_verifies_through_the_jwks(
    auth_http: httpx.AsyncClient, make_settings: SettingsFactory
) -> None:
    tokens = await sign_up(auth_http)
    verifier = verifier_for(backend_settings(make_settings), auth_http)
    principal = await verifier.verify(tokens["access_token"])
    assert principal.email == "ada@example.com"
    assert principal.session_id == tokens["session_id"]
    assert isinstance(verifier.keys, JwksKeys)
    assert verifier.keys.fetches == 1


async def test_a_flood_of_random_kids_fetches_the_jwks_a_bounded_number_of_times(
    auth_http: httpx.AsyncClient, make_settings: SettingsFactory
) -> None:
    verifier = verifier_for(backend_settings(make_settings), auth_http)
    attacker = ed25519.Ed25519PrivateKey.generate()
    now = int(time.time())
    claims = {"iss": "netra-auth", "aud": "netra", "sub": "x", "iat": now, "exp": now + 60}
    for _ in range(200):
        token = jwt.encode(
            {**claims, "jti": secrets.token_hex(4), "typ": "access"},
            attacker,
            algorithm="EdDSA",
            headers={"kid": secrets.token_hex(8)},
        )
        with pytest.raises(TokenRejected) as caught:
            await verifier.verify(token)
        assert caught.value.reason == "unknown_key"
    assert isinstance(verifier.keys, JwksKeys)
    assert verifier.keys.fetches == 1


async def test_backend_wiring_service_token_revocations_and_api_keys(
    auth_http: httpx.AsyncClient, make_settings: SettingsFactory
) -> None:
    backend = AuthServiceTokens(backend_settings(make_settings), auth_http)
    await backend.agreement()
    checks = {check.name: check for check in backend.checks()}
    assert (await checks["jwks"].probe()).status == "pass"

    service = await backend.verifier.verify(await backend.service_tokens.token())
    assert service.subject == "service:netra-backend"
    assert service.kind == "service"

    tokens = await sign_up(auth_http)
    principal = await backend.verifier.verify(tokens["access_token"])
    assert principal.session_id == tokens["session_id"]

    created = await auth_http.post(
        "/auth/api-keys",
        json={"name": "cli", "password": PASSWORD},
        headers=bearer(tokens["access_token"]),
    )
    assert created.status_code == 201, created.text
    api_key = created.json()["api_key"]
    by_key = await backend.verifier.verify(api_key)
    assert by_key.kind == "api_key"
    assert by_key.subject == principal.subject

    await auth_http.delete(
        f"/auth/api-keys/{created.json()['id']}", headers=bearer(tokens["access_token"])
    )
    await auth_http.post("/auth/logout", headers=bearer(tokens["access_token"]))
    await backend.poller.poll_once()
    for revoked in (tokens["access_token"], api_key):
        with pytest.raises(TokenRejected) as caught:
            await backend.verifier.verify(revoked)
        assert caught.value.reason == "revoked"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({"JWT_ISSUER": "someone-else"}, "JWT_ISSUER", id="issuer"),
        pytest.param({"JWT_AUDIENCE": "other"}, "JWT_AUDIENCE", id="audience"),
        pytest.param({"TOKEN_ALGORITHM": "ES256"}, "TOKEN_ALGORITHM", id="algorithm"),
        pytest.param(
            {"SERVICE_SECRET": "wrong-secret-wrong-secret"}, "SERVICE_SECRET", id="secret"
        ),
    ],
)
async def test_a_mismatch_is_named_before_any_401(
    auth_http: httpx.AsyncClient, make_settings: SettingsFactory, env: dict[str, str], named: str
) -> None:
    settings = make_settings(
        [Service.BACKEND],
        **{"AUTH_SERVICE_URL": "http://auth.test", "SERVICE_SECRET": SECRET, **env},
    )
    backend = AuthServiceTokens(settings, auth_http)
    with pytest.raises(TokenConfigMismatch) as caught:
        await backend.agreement()
    assert named in str(caught.value)
    assert SECRET not in str(caught.value)


async def delete_account(
    auth_http: httpx.AsyncClient, settings: Settings, tokens: dict[str, Any]
) -> None:
    """An admin deletes the account behind `tokens`."""
    admin = await sign_up(auth_http, "root@example.com")
    engine = db.create_engine(settings)
    try:
        async with db.sessionmaker(engine)() as session, session.begin():
            await session.execute(
                update(User).where(User.email == "root@example.com").values(role="admin")
            )
    finally:
        await engine.dispose()
    me = await auth_http.get("/auth/me", headers=bearer(tokens["access_token"]))
    deleted = await auth_http.delete(
        f"/auth/admin/users/{me.json()['id']}", headers=bearer(admin["access_token"])
    )
    assert deleted.status_code == 204, deleted.text


def revoked(backend: AuthServiceTokens, session_id: str) -> Callable[[], Awaitable[bool | None]]:
    """A check for `eventually`: has the backend learned that the session ended?"""

    async def check() -> bool | None:
        return backend.verifier.revocations.is_revoked(session_id) or None

    return check


@pytest.mark.parametrize("ending", ["logout", "account deleted"])
async def test_a_revocation_reaches_the_backend_within_the_poll_interval(
    auth_http: httpx.AsyncClient,
    make_settings: SettingsFactory,
    database_env: dict[str, str],
    ending: str,
) -> None:

    settings = backend_settings(make_settings, REVOCATION_POLL_INTERVAL="0.2")
    backend = AuthServiceTokens(settings, auth_http)
    await backend.start()
    try:
        tokens = await sign_up(auth_http)
        await backend.verifier.verify(tokens["access_token"])  # now cached
        if ending == "logout":
            await auth_http.post("/auth/logout", headers=bearer(tokens["access_token"]))
        else:
            auth_settings = make_settings([Service.AUTH], **database_env)
            await delete_account(auth_http, auth_settings, tokens)
        await eventually(
            revoked(backend, tokens["session_id"]), 1.2, "the revocation did not arrive", 0.05
        )
        with pytest.raises(TokenRejected) as caught:
            await backend.verifier.verify(tokens["access_token"])
        assert caught.value.reason == "revoked"
    finally:
        await backend.stop()


async def test_an_auth_service_not_up_yet_is_waited_for_not_fatal(
    make_settings: SettingsFactory,
) -> None:
    port = free_port()
    settings = make_settings(
        [Service.BACKEND], AUTH_SERVICE_URL=f"http://127.0.0.1:{port}", SERVICE_SECRET=SECRET
    )
    backend = AuthServiceTokens(settings)
    await backend.start()  # no exception: readiness waits instead
    try:
        results = {check.name: await check.probe() for check in backend.checks()}
        assert results["jwks"].status == "fail"
        assert f"127.0.0.1:{port}" in results["jwks"].output
        with pytest.raises(TokenRejected) as caught:
            await backend.verifier.verify("nk_0123456789abcdef_secret")
        assert caught.value.reason == "unavailable"
    finally:
        await backend.stop()


async def test_with_redis_a_revocation_is_pushed_at_once(
    make_settings: SettingsFactory, sqlite_env_tokens: dict[str, str]
) -> None:
    import asyncio

    # LOGIN_LIMIT_PER_IP: the shared Redis keeps counting across test runs.
    redis = {"REDIS_URL": "redis://127.0.0.1:6379/14", "LOGIN_LIMIT_PER_IP": "1000000"}
    auth_settings = make_settings(
        [Service.AUTH], SERVICE_SECRET=SECRET, **redis, **sqlite_env_tokens
    )
    async with running(create_app(auth_settings), base_url="http://auth.test") as auth_http:
        settings = backend_settings(make_settings, REVOCATION_POLL_INTERVAL="3600", **redis)
        backend = AuthServiceTokens(settings, auth_http)
        await backend.start()
        try:
            await asyncio.sleep(0.3)  # the subscription is in place
            tokens = await sign_up(auth_http)
            await auth_http.post("/auth/logout", headers=bearer(tokens["access_token"]))
            await eventually(
                revoked(backend, tokens["session_id"]), 1.0, "the push did not arrive", 0.02
            )
        finally:
            await backend.stop()


@pytest.fixture
def sqlite_env_tokens(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'auth.db'}"}


async def test_made_up_api_keys_cannot_flood_the_auth_service(
    auth_http: httpx.AsyncClient, make_settings: SettingsFactory
) -> None:
    """A script retrying a revoked key costs one introspection per cache period, and a
    flood of distinct made-up keys never has more than MAX_IN_FLIGHT calls open at once."""
    import asyncio

    backend = AuthServiceTokens(backend_settings(make_settings), auth_http)
    assert isinstance(backend.verifier.api_keys, HttpApiKeyResolver)
    calls, open_calls, most = 0, 0, 0

    async def counting(request: httpx.Request) -> None:
        nonlocal calls, open_calls, most
        if request.url.path.endswith("/introspect"):
            calls += 1
            open_calls += 1
            most = max(most, open_calls)

    async def closed(response: httpx.Response) -> None:
        nonlocal open_calls
        if response.request.url.path.endswith("/introspect"):
            open_calls -= 1

    auth_http.event_hooks = {"request": [counting], "response": [closed]}
    made_up = "nk_" + "0123456789abcdef" + "_" + "s" * 40
    for _ in range(20):
        with pytest.raises(TokenRejected) as caught:
            await backend.verifier.verify(made_up)
        assert caught.value.reason == "revoked"
    assert calls == 1

    flood = [f"nk_{secrets.token_hex(8)}_{secrets.token_urlsafe(30)}" for _ in range(60)]
    answers = await asyncio.gather(
        *(backend.verifier.verify(key) for key in flood), return_exceptions=True
    )
    assert all(isinstance(a, TokenRejected) and a.reason == "revoked" for a in answers)
    assert calls == 1 + 60
    assert 1 <= most <= MAX_IN_FLIGHT


async def test_a_refused_service_token_is_not_taken_for_a_refused_key(
    auth_http: httpx.AsyncClient, make_settings: SettingsFactory
) -> None:
    """The auth service answers a bad key with `active: false` and a bad caller with 401:
    only the first is remembered; after the second the backend fetches a new token."""
    backend = AuthServiceTokens(backend_settings(make_settings), auth_http)
    tokens = await sign_up(auth_http)
    created = await auth_http.post(
        "/auth/api-keys",
        json={"name": "cli", "password": PASSWORD},
        headers=bearer(tokens["access_token"]),
    )
    api_key = created.json()["api_key"]
    await backend.service_tokens.token()  # cached until it is due for renewal
    # ... and then refused (e.g. signed by a key the auth service has since retired):
    backend.service_tokens._token = "a-token-the-auth-service-refuses"
    with pytest.raises(TokenRejected) as caught:
        await backend.verifier.verify(api_key)
    assert caught.value.reason == "unavailable"
    assert "refused our token" in caught.value.message
    assert (await backend.verifier.verify(api_key)).kind == "api_key"  # not a cached refusal

    made_up = await auth_http.post(
        "/auth/api-keys/introspect",
        json={"api_key": "nk_" + "0123456789abcdef" + "_" + "s" * 40},
        headers=await backend.service_tokens.headers(),
    )
    assert made_up.status_code == 200
    assert made_up.json() == {
        "active": False,
        "reason": "invalid_signature",
        "message": "the API key is not valid",
    }
