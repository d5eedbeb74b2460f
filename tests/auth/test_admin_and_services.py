"""Admin endpoints, API keys, service tokens, and tokens whose user or session is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete

from netra import db
from netra.auth.models import User
from netra.settings import Service
from netra.testing import PASSWORD, bearer, sign_up
from tests.support.apps import SettingsFactory
from tests.support.auth import AuthClientFactory, reason

SECRET = "service-secret-for-the-admin-suite-0123"


@pytest.fixture
async def dev(
    auth_service: AuthClientFactory, database_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    env = {"ENVIRONMENT": "development", "SERVICE_SECRET": SECRET, **database_env}
    async with auth_service(**env) as client:
        yield client


async def test_first_account_in_development_is_admin_and_can_manage(
    dev: httpx.AsyncClient,
) -> None:
    admin = await sign_up(dev, "root@example.com")
    user = await sign_up(dev, "ada@example.com")
    listed = await dev.get("/auth/admin/users", headers=bearer(admin["access_token"]))
    assert listed.status_code == 200
    assert listed.json()["total"] == 2
    found = await dev.get(
        "/auth/admin/users", params={"q": "ADA"}, headers=bearer(admin["access_token"])
    )
    assert [u["email"] for u in found.json()["users"]] == ["ada@example.com"]
    wildcard = await dev.get(
        "/auth/admin/users", params={"q": "%"}, headers=bearer(admin["access_token"])
    )
    assert wildcard.json()["total"] == 0
    ada_id = found.json()["users"][0]["id"]
    sessions = await dev.get(
        f"/auth/admin/users/{ada_id}/sessions", headers=bearer(admin["access_token"])
    )
    assert [s["id"] for s in sessions.json()] == [user["session_id"]]

    disabled = await dev.post(
        f"/auth/admin/users/{ada_id}/disable", headers=bearer(admin["access_token"])
    )
    assert disabled.json()["is_active"] is False
    me = await dev.get("/auth/me", headers=bearer(user["access_token"]))
    assert me.status_code == 401
    assert reason(me) in {"revoked", "account_disabled"}
    refused = await dev.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert reason(refused) == "account_disabled"

    await dev.post(f"/auth/admin/users/{ada_id}/enable", headers=bearer(admin["access_token"]))
    again = await dev.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert again.status_code == 200
    revoked = await dev.delete(
        f"/auth/admin/users/{ada_id}/sessions", headers=bearer(admin["access_token"])
    )
    assert revoked.json() == {"revoked": 1}
    audit = await dev.get(
        f"/auth/admin/users/{ada_id}/audit", headers=bearer(admin["access_token"])
    )
    events = [e["event"] for e in audit.json()]
    for expected in (
        "register",
        "login",
        "user_disabled",
        "user_enabled",
        "admin_revoked_sessions",
    ):
        assert expected in events
    assert PASSWORD not in audit.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/admin/users"),
        ("POST", "/auth/admin/users/x/disable"),
        ("POST", "/auth/admin/users/x/enable"),
        ("GET", "/auth/admin/users/x/sessions"),
        ("DELETE", "/auth/admin/users/x/sessions"),
        ("GET", "/auth/admin/users/x/audit"),
        ("DELETE", "/auth/admin/users/x"),
    ],
)
async def test_a_non_admin_cannot_call_admin_endpoints(
    dev: httpx.AsyncClient, method: str, path: str
) -> None:
    await sign_up(dev, "root@example.com")
    user = await sign_up(dev, "ada@example.com")
    answer = await dev.request(method, path, headers=bearer(user["access_token"]))
    assert answer.status_code == 403
    anonymous = await dev.request(method, path)
    assert anonymous.status_code == 401


async def test_service_tokens_and_rotation_of_the_service_secret(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    env = {"SERVICE_SECRET": "new-secret-new-secret-new", "SERVICE_SECRET_PREVIOUS": SECRET}
    async with auth_service(**env, **sqlite_env) as client:
        for secret in ("new-secret-new-secret-new", SECRET):
            answer = await client.post(
                "/auth/service-token",
                json={"service_id": "netra-backend", "service_secret": secret},
            )
            assert answer.status_code == 200, answer.text
        wrong = await client.post(
            "/auth/service-token",
            json={"service_id": "netra-backend", "service_secret": "guess"},
        )
        assert wrong.status_code == 401
        unknown = await client.post(
            "/auth/service-token", json={"service_id": "intruder", "service_secret": SECRET}
        )
        assert unknown.status_code == 401
        service = answer.json()["access_token"]
        me = await client.get("/auth/me", headers=bearer(service))
        assert me.status_code == 401
        assert reason(me) == "wrong_type"
        user = await sign_up(client)
        denied = await client.get("/auth/revocations", headers=bearer(user["access_token"]))
        assert denied.status_code == 403


async def test_api_keys_are_shown_once_scoped_and_revocable(dev: httpx.AsyncClient) -> None:
    user = await sign_up(dev)
    created = await dev.post(
        "/auth/api-keys",
        json={"name": "laptop", "scopes": ["chat:read", "profile"], "password": PASSWORD},
        headers=bearer(user["access_token"]),
    )
    assert created.status_code == 201
    key = created.json()
    assert key["api_key"].startswith("nk_")
    listed = await dev.get("/auth/api-keys", headers=bearer(user["access_token"]))
    assert "api_key" not in listed.json()[0]
    assert listed.json()[0]["scopes"] == ["chat:read", "profile"]
    me = await dev.get("/auth/me", headers=bearer(key["api_key"]))
    assert me.json()["credential"] == "api_key"
    used = await dev.get("/auth/api-keys", headers=bearer(user["access_token"]))
    assert used.json()[0]["last_used_at"] is not None
    escalate = await dev.post("/auth/api-keys", json={"name": "x"}, headers=bearer(key["api_key"]))
    assert escalate.status_code == 403
    bad_scope = await dev.post(
        "/auth/api-keys",
        json={"name": "x", "scopes": ["admin"], "password": PASSWORD},
        headers=bearer(user["access_token"]),
    )
    assert bad_scope.status_code == 422
    await dev.delete(f"/auth/api-keys/{key['id']}", headers=bearer(user["access_token"]))
    after = await dev.get("/auth/me", headers=bearer(key["api_key"]))
    assert after.status_code == 401
    forged = key["api_key"][:-4] + "AAAA"
    assert (await dev.get("/auth/me", headers=bearer(forged))).status_code == 401


async def test_a_valid_token_of_a_deleted_user(
    auth_service: AuthClientFactory, make_settings: SettingsFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(**sqlite_env) as client:
        tokens = await sign_up(client)
        engine = db.create_engine(make_settings([Service.AUTH], **sqlite_env))
        try:
            async with db.sessionmaker(engine)() as session, session.begin():
                await session.execute(delete(User))
        finally:
            await engine.dispose()
        me = await client.get("/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 401
        assert reason(me) == "unknown_user"


async def test_admin_deletes_an_account_and_every_credential_with_it(
    dev: httpx.AsyncClient,
) -> None:
    admin = await sign_up(dev, "root@example.com")
    ada = await sign_up(dev, "ada@example.com")
    as_admin = bearer(admin["access_token"])
    key = await dev.post(
        "/auth/api-keys",
        json={"name": "laptop", "password": PASSWORD},
        headers=bearer(ada["access_token"]),
    )
    ada_id = (await dev.get("/auth/me", headers=bearer(ada["access_token"]))).json()["id"]

    admin_id = (await dev.get("/auth/me", headers=as_admin)).json()["id"]
    itself = await dev.delete(f"/auth/admin/users/{admin_id}", headers=as_admin)
    assert (itself.status_code, itself.json()["detail"]["message"]) == (
        409,
        "an admin cannot delete their own account",
    )
    deleted = await dev.delete(f"/auth/admin/users/{ada_id}", headers=as_admin)
    assert deleted.status_code == 204, deleted.text

    me = await dev.get("/auth/me", headers=bearer(ada["access_token"]))
    assert (me.status_code, reason(me)) == (401, "revoked")
    assert (await dev.get("/auth/me", headers=bearer(key.json()["api_key"]))).status_code == 401
    refresh = await dev.post("/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    assert refresh.status_code == 401
    login = await dev.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert (login.status_code, reason(login)) == (401, "invalid_credentials")

    # Backends learn of the revoked session from the tombstone until its tokens expire.
    service = await dev.post(
        "/auth/service-token", json={"service_id": "netra-backend", "service_secret": SECRET}
    )
    revocations = await dev.get("/auth/revocations", headers=bearer(service.json()["access_token"]))
    assert ada["session_id"] in {r["id"] for r in revocations.json()["revoked"]}

    listed = await dev.get("/auth/admin/users", headers=as_admin)
    assert [u["email"] for u in listed.json()["users"]] == ["root@example.com"]
    again = await dev.delete(f"/auth/admin/users/{ada_id}", headers=as_admin)
    assert (again.status_code, reason(again)) == (404, "not_found")
    audit = await dev.get(f"/auth/admin/users/{ada_id}/audit", headers=as_admin)
    assert "user_deleted" in [e["event"] for e in audit.json()]
    assert (
        "ada@example.com" not in (await dev.get("/auth/admin/users?q=ada", headers=as_admin)).text
    )

    # The address is free again: a new account, not the old one back.
    anew = await sign_up(dev, "ada@example.com")
    anew_me = await dev.get("/auth/me", headers=bearer(anew["access_token"]))
    assert anew_me.json()["id"] != ada_id


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({}, id="none"),
        pytest.param({"Authorization": "Basic YTpi"}, id="basic"),
        pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
        pytest.param({"Authorization": "Bearer " + "a" * 100_000}, id="huge"),
    ],
)
async def test_missing_or_odd_credentials(
    auth_sqlite: httpx.AsyncClient, header: dict[str, str]
) -> None:
    answer = await auth_sqlite.get("/auth/me", headers=header)
    assert answer.status_code == 401
    assert answer.json()["detail"]["message"]


async def test_registration_is_rate_limited_per_ip(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(LOGIN_LIMIT_PER_IP="3", **sqlite_env) as client:
        for i in range(3):
            answer = await client.post(
                "/auth/register", json={"email": f"u{i}@example.com", "password": PASSWORD}
            )
            assert answer.status_code == 201
        blocked = await client.post(
            "/auth/register", json={"email": "u9@example.com", "password": PASSWORD}
        )
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers
