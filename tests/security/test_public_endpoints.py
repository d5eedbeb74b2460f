"""Issue 15 item 9: what public endpoints reveal.

Hostile cases: `/health/ready` asked from another machine, and from this machine but
through a proxy (X-Forwarded-For, Forwarded, X-Real-IP), with no token and with a wrong
one: names and pass/fail only (main showed the database host, key ids and errors);
`/metrics` asked the same way in production: refused (main served it to anyone);
`/docs` must not load a script from a CDN and must carry a CSP; `/redoc` (CDN) is gone.
A run's `agent_error` never names the model server: tests/agents/test_openai_provider.py
`test_unreachable_server`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.settings import Service
from tests.support.apps import SettingsFactory
from tests.support.databases import create_pg_database, drop_pg_database

OPS_TOKEN = "b1946ac92492d2347c6235b4d2611184b1946ac92492d2347c6235b4d2611184"
REMOTE = ("203.0.113.7", 40000)
LOCAL = ("127.0.0.1", 40000)


@asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with LifespanManager(app, startup_timeout=30) as manager:
        yield manager.app  # type: ignore[misc]


def client(app: Any, peer: tuple[str, int], **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=peer)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


def embedded(make_settings: SettingsFactory, tmp_path: Path, **env: str) -> FastAPI:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}", "OPS_TOKEN": OPS_TOKEN, **env}
    settings = make_settings([Service.AUTH, Service.BACKEND], **env)
    return build_app(settings, [AuthComponent(), ChatComponent()])


def bare(body: dict[str, Any]) -> None:
    """Only names and statuses: nothing a check found."""
    assert set(body) == {"status", "checks"}, body
    assert body["checks"], body
    for check in body["checks"].values():
        assert set(check) == {"status"}, check
    text = json.dumps(body)
    for leaked in ("sqlite", "SQLite", "netra.db", "key(s)", "kid", "http://", "/tmp"):
        assert leaked not in text


@pytest.mark.parametrize(
    ("peer", "headers"),
    [
        pytest.param(REMOTE, {}, id="remote"),
        pytest.param(REMOTE, {"Authorization": "Bearer wrong-token"}, id="remote-wrong-token"),
        pytest.param(LOCAL, {"X-Forwarded-For": "203.0.113.7"}, id="through-a-proxy-xff"),
        pytest.param(LOCAL, {"Forwarded": "for=203.0.113.7"}, id="through-a-proxy-forwarded"),
        pytest.param(LOCAL, {"X-Real-IP": "203.0.113.7"}, id="through-a-proxy-real-ip"),
        pytest.param(LOCAL, {"Authorization": f"Bearer {OPS_TOKEN[:-1]}"}, id="near-token"),
    ],
)
async def test_readiness_tells_strangers_names_and_statuses_only(
    make_settings: SettingsFactory, tmp_path: Path, peer: tuple[str, int], headers: dict[str, str]
) -> None:
    async with started(embedded(make_settings, tmp_path)) as app:
        if "Authorization" in headers and peer == LOCAL:
            headers = {**headers, "X-Forwarded-For": "203.0.113.7"}
        async with client(app, peer, **headers) as http:
            answer = await http.get("/health/ready")
    assert answer.status_code == 200
    bare(answer.json())
    assert {"database", "schema:auth", "signing_key"} <= set(answer.json()["checks"])


@pytest.mark.parametrize(
    ("peer", "headers"),
    [
        pytest.param(REMOTE, {"Authorization": f"Bearer {OPS_TOKEN}"}, id="ops-token"),
        pytest.param(LOCAL, {}, id="this-machine"),
    ],
)
async def test_operators_see_the_details(
    make_settings: SettingsFactory, tmp_path: Path, peer: tuple[str, int], headers: dict[str, str]
) -> None:
    async with (
        started(embedded(make_settings, tmp_path)) as app,
        client(app, peer, **headers) as http,
    ):
        body = (await http.get("/health/ready")).json()
    assert "output" in body["checks"]["database"]
    assert "SQLite" in body["checks"]["database"]["output"]


@pytest.fixture
async def production_app(make_settings: SettingsFactory) -> AsyncIterator[FastAPI]:
    name = await create_pg_database()
    try:
        settings = make_settings(
            [Service.AUTH],
            ENVIRONMENT="production",
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}",
            SERVICE_SECRET=OPS_TOKEN[::-1],
            KEY_ENCRYPTION_KEY=OPS_TOKEN.upper(),
            OPS_TOKEN=OPS_TOKEN,
            AUTO_MIGRATE="true",
        )
        async with started(build_app(settings, [AuthComponent()])) as app:
            yield app
    finally:
        await drop_pg_database(name)


async def test_metrics_are_for_operators_in_production(production_app: FastAPI) -> None:
    for peer, headers in (
        (REMOTE, {}),
        (REMOTE, {"Authorization": "Bearer guess"}),
        (LOCAL, {"X-Forwarded-For": "203.0.113.7"}),
    ):
        async with client(production_app, peer, **headers) as http:
            refused = await http.get("/metrics")
        assert refused.status_code == 401, (peer, headers)
        assert refused.json()["detail"]["reason"] == "ops_token_required"
        assert "netra_" not in refused.text
    ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    async with client(production_app, REMOTE, **ops) as http:
        allowed = await http.get("/metrics")
    assert allowed.status_code == 200
    assert "netra_" in allowed.text


async def test_docs_come_from_the_package_under_a_csp(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    async with started(embedded(make_settings, tmp_path)) as app, client(app, REMOTE) as http:
        page = await http.get("/docs")
        script = await http.get("/docs/assets/swagger-ui-bundle.js")
        init = await http.get("/docs/init.js")
        redoc = await http.get("/redoc")
        spec = await http.get("/openapi.json")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "default-src 'none'" in csp
    assert "http" not in page.text  # no CDN, no absolute URL at all
    assert "<script>" not in page.text  # no inline script: the CSP would block it
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text
    assert init.status_code == 200
    assert "/openapi.json" in init.text
    assert redoc.status_code == 404
    assert spec.status_code == 200
