"""Sign-in and registration under attack: enumeration, look-alikes, oversized and
poisoned input, mass assignment, duplicate races, lockout dodging, forged proxies."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from netra import db
from netra.auth.models import User
from netra.settings import Service
from netra.testing import PASSWORD, bearer, sign_up
from tests.support.apps import SettingsFactory
from tests.support.auth import AuthClientFactory, reason

# "ada@example.com" in full-width letters (U+FF41...), which NFKC folds to ASCII.
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in "ada@example.com")


async def login(
    client: httpx.AsyncClient, email: str, password: str, **headers: str
) -> httpx.Response:
    return await client.post(
        "/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def test_unknown_email_and_wrong_password_answer_alike(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    await sign_up(auth_sqlite)
    unknown = await login(auth_sqlite, "nobody@example.com", PASSWORD)
    wrong = await login(auth_sqlite, "ada@example.com", "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    for _ in range(5):
        for label, email in (("unknown", "nobody@example.com"), ("wrong", "ada@example.com")):
            started = time.perf_counter()
            await login(auth_sqlite, email, "not the password at all")
            timings[label].append(time.perf_counter() - started)
    ratio = statistics.median(timings["unknown"]) / statistics.median(timings["wrong"])
    assert 0.5 < ratio < 2.0, timings


async def test_registering_an_existing_email_answers_like_a_new_one(
    auth_sqlite: httpx.AsyncClient,
) -> None:
    body = {"email": "ada@example.com", "password": PASSWORD}
    first = await auth_sqlite.post("/auth/register", json=body)
    again = await auth_sqlite.post("/auth/register", json={**body, "password": "other password!"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (await login(auth_sqlite, "ada@example.com", PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param("ADA@EXAMPLE.COM", id="upper-case"),
        pytest.param("  Ada@Example.com ", id="spaces"),
        pytest.param(FULL_WIDTH, id="full-width"),
    ],
)
async def test_case_and_width_variants_are_the_same_identity(
    auth_sqlite: httpx.AsyncClient, variant: str
) -> None:
    tokens = await sign_up(auth_sqlite)
    await auth_sqlite.post("/auth/register", json={"email": variant, "password": "x" + PASSWORD})
    signed_in = await login(auth_sqlite, variant, PASSWORD)
    assert signed_in.status_code == 200
    me = await auth_sqlite.get("/auth/me", headers=bearer(signed_in.json()["access_token"]))
    first = await auth_sqlite.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("\u0430da@example.com", id="cyrillic-a"),
        pytest.param("ada@ex\u0430mple.com", id="cyrillic-domain"),
        pytest.param("ada\x00@example.com", id="nul-byte"),
        pytest.param("ada'; DROP TABLE users; --@example.com", id="sql"),
        pytest.param("not-an-email", id="no-at"),
        pytest.param("", id="empty"),
        pytest.param("a" * 400 + "@example.com", id="too-long"),
    ],
)
async def test_hostile_emails_are_refused_at_registration(
    auth_sqlite: httpx.AsyncClient, email: str
) -> None:
    answer = await auth_sqlite.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 422, answer.text
    assert reason(answer) == "invalid_request"
    signed_in = await login(auth_sqlite, email, PASSWORD)
    assert signed_in.status_code == 401


@pytest.mark.parametrize(
    ("password", "status"),
    [
        pytest.param("", 422, id="empty"),
        pytest.param("short", 422, id="too-short"),
        pytest.param("password123", 422, id="common"),
        pytest.param("x" * (1 << 19), 422, id="half-a-megabyte"),
        pytest.param("x" * (1 << 20), 413, id="one-megabyte-past-max-body-bytes"),
        pytest.param("long enough\x00but nul", 422, id="nul-byte"),
        pytest.param("' OR '1'='1' -- long", 201, id="sql-is-just-text"),
    ],
)
async def test_passwords_at_registration(
    auth_sqlite: httpx.AsyncClient, password: str, status: int
) -> None:
    answer = await auth_sqlite.post(
        "/auth/register", json={"email": "ada@example.com", "password": password}
    )
    assert answer.status_code == status, answer.text[:300]
    if password:
        assert password[:50] not in answer.text


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * (1 << 19), id="half-a-megabyte"),
        pytest.param("\x00" * 20, id="nul-bytes"),
    ],
)
async def test_hostile_passwords_at_login(auth_sqlite: httpx.AsyncClient, password: str) -> None:
    await sign_up(auth_sqlite)
    answer = await login(auth_sqlite, "ada@example.com", password)
    assert answer.status_code in (401, 422)
    assert "x" * 100 not in answer.text


async def test_mass_assignment_is_ignored(auth_sqlite: httpx.AsyncClient) -> None:
    answer = await auth_sqlite.post(
        "/auth/register",
        json={
            "email": "ada@example.com",
            "password": PASSWORD,
            "id": "00000000-0000-0000-0000-000000000000",
            "role": "admin",
            "roles": ["admin"],
            "is_admin": True,
            "is_active": False,
        },
    )
    assert answer.status_code == 201
    tokens = (await login(auth_sqlite, "ada@example.com", PASSWORD)).json()
    me = (await auth_sqlite.get("/auth/me", headers=bearer(tokens["access_token"]))).json()
    assert me["role"] == "user"
    assert me["roles"] == ["user"]
    assert me["id"] != "00000000-0000-0000-0000-000000000000"


async def test_concurrent_duplicate_sign_ups_create_one_row(
    auth_service: AuthClientFactory,
    make_settings: SettingsFactory,
    database_env: dict[str, str],
) -> None:
    async with auth_service(**database_env) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
                )
                for _ in range(6)
            )
        )
        assert {a.status_code for a in answers} == {201}
    engine = db.create_engine(make_settings([Service.AUTH], **database_env))
    try:
        async with db.sessionmaker(engine)() as session:
            count = await session.scalar(select(func.count()).select_from(User))
    finally:
        await engine.dispose()
    assert count == 1


async def test_account_lockout_cannot_be_dodged_by_rotating_ips(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(
        TRUSTED_PROXIES="127.0.0.1", LOGIN_LIMIT_PER_ACCOUNT="3", **sqlite_env
    ) as client:
        await sign_up(client)
        client.cookies.clear()  # the guesser has no device cookie of this account
        for hop in range(3):
            forwarded = {"X-Forwarded-For": f"203.0.113.{hop}"}
            assert (
                await login(client, "ada@example.com", "wrong!", **forwarded)
            ).status_code == 401
        blocked = await login(
            client, "ada@example.com", PASSWORD, **{"X-Forwarded-For": "198.51.100.9"}
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) >= 1
        assert reason(blocked) == "rate_limited"


async def test_a_forged_forwarded_for_from_an_untrusted_hop_is_ignored(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(LOGIN_LIMIT_PER_IP="3", **sqlite_env) as client:
        for hop in range(3):
            forwarded = {"X-Forwarded-For": f"203.0.113.{hop}"}
            await login(client, f"user{hop}@example.com", "wrong!", **forwarded)
        blocked = await login(client, "x@example.com", "wrong!", **{"X-Forwarded-For": "192.0.2.1"})
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers


async def test_rate_limits_are_shared_through_redis(
    auth_service: AuthClientFactory, tmp_path: Path
) -> None:
    import uuid

    env = {
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "LOGIN_LIMIT_PER_ACCOUNT": "2",
        "LOGIN_LIMIT_PER_IP": "1000000",  # the shared Redis outlives this test run
        "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
    }
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    async with auth_service(**env) as first:
        for _ in range(2):
            await login(first, email, "wrong!")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'b.db'}"
    async with auth_service(**env) as second:  # another instance, same Redis
        assert (await login(second, email, "wrong!")).status_code == 429
