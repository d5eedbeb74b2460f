"""App factories and startup: phases, the startup gate, readiness that heals."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from netra import db
from netra.auth.app import create_app as create_auth_app
from netra.auth.schema import AUTH_SCHEMA
from netra.db import migrations
from netra.embedded import create_app
from netra.testing import free_port
from tests.support.apps import SettingsFactory, running


async def test_embedded_app_serves_health_and_is_ready(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    async with running(create_app(make_settings(**database_env))) as client:
        assert (await client.get("/health")).json() == {"status": "pass"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.headers["content-type"] == "application/health+json"
        assert {"database", "schema:auth", "schema:chat", "signing_key"} <= set(
            ready.json()["checks"]
        )


async def test_nothing_but_health_is_served_before_startup(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings())
    transport = httpx.ASGITransport(app=app)  # no lifespan: startup never ran
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/health")).status_code == 200
        refused = await client.get("/")
        assert refused.status_code == 503
        assert refused.json()["detail"] == {
            "reason": "unavailable",
            "message": "service is starting (phase: created), retry shortly",
        }
        assert (await client.get("/health/ready")).status_code == 503


async def test_two_apps_with_different_settings_in_one_process(
    make_settings: SettingsFactory, tmp_path: object
) -> None:
    first = make_settings(DATA_DIR=f"{tmp_path}/one")
    second = make_settings(DATA_DIR=f"{tmp_path}/two")
    async with running(create_auth_app(first)) as a, running(create_app(second)) as b:
        checks_a = (await a.get("/health/ready")).json()["checks"]
        checks_b = (await b.get("/health/ready")).json()["checks"]
    assert "schema:chat" not in checks_a
    assert {"schema:auth", "schema:chat"} <= set(checks_b)
    assert "one/netra.db" in checks_a["database"]["output"]
    assert "two/netra.db" in checks_b["database"]["output"]


async def test_schema_behind_head_fails_readiness_until_migrated(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    settings = make_settings(AUTO_MIGRATE="false", **database_env)
    async with running(create_auth_app(settings)) as client:
        behind = await client.get("/health/ready")
        assert behind.status_code == 503
        check = behind.json()["checks"]["schema:auth"]
        assert check["status"] == "fail"
        assert check["observedValue"] == {"found": None, "expected": AUTH_SCHEMA.head()}
        assert check["output"].endswith("run `netra migrate`")

        engine = db.create_engine(settings)  # the release step, from another process
        await migrations.upgrade(engine, [AUTH_SCHEMA])
        await engine.dispose()
        await asyncio.sleep(1.1)  # readiness results are cached for one second
        healed = await client.get("/health/ready")
        assert healed.status_code == 200, healed.text


async def test_unreachable_database_keeps_the_process_and_names_the_check(
    make_settings: SettingsFactory,
) -> None:
    port = free_port()
    settings = make_settings(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/netra")
    async with running(create_auth_app(settings)) as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["output"] == (
        f"cannot connect to PostgreSQL database 'netra' at 127.0.0.1:{port}: "
        "connection refused (is the server running?)"
    )


def test_serve_refuses_to_start_with_every_missing_setting_and_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "netra.cli", "serve", "backend", "--port", str(free_port())],
        env={"ENVIRONMENT": "staging", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for name in ("AUTH_SERVICE_URL", "SERVICE_SECRET", "DATABASE_URL"):
        assert f"{name}:" in result.stderr
    assert "netra config check --env staging --service backend" in result.stderr


def test_a_taken_port_is_named_before_any_startup_work(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "netra.cli",
                "up",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path),
            ],
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in " ".join(
        result.stderr.split()
    )
    assert not (tmp_path / "netra.db").exists()  # refused before touching the database
