"""docs/incidents.md I-3: the backend deployed without SERVICE_SECRET, JWT_SECRET_KEY,
SERVICE_ID and AUTH_SERVICE_URL; WebSockets closed with 1006.

Netra refuses to start, listing every missing setting and where it looked, before it
ever listens (so no client can meet a half-started backend); and an app whose startup
has not completed closes WebSockets with 1013 "service is starting", never 1006."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from netra.embedded import create_app
from netra.testing import free_port, netra_env, run_netra
from tests.support.apps import SettingsFactory


def test_backend_without_its_settings_refuses_to_start_naming_each(tmp_path: Path) -> None:
    port = free_port()
    env = netra_env(
        tmp_path,
        ENVIRONMENT="staging",
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/postgres",
        TOKEN_ALGORITHM="HS256",
    )
    result = run_netra(["serve", "backend", "--port", str(port)], env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    text = " ".join(result.stderr.split())
    assert "Configuration for backend in staging has 3 problem(s)" in text
    assert "AUTH_SERVICE_URL: required by backend in staging (looked in: $AUTH_SERVICE_URL)" in text
    assert "SERVICE_SECRET: required by backend in staging (looked in: $SERVICE_SECRET)" in text
    assert (
        "JWT_SECRET_{ENVIRONMENT}: TOKEN_ALGORITHM=HS256 needs the shared secret, and none was "
        "found (looked in: $JWT_SECRET_STAGING, $JWT_SECRET_KEY, $JWT_SECRET)"
    ) in text
    smoke = run_netra(["smoke", f"http://127.0.0.1:{port}"], netra_env(tmp_path))
    assert smoke.returncode == 1
    assert "smoke failed at 'backend liveness'" in " ".join(smoke.stderr.split())


def test_config_check_shows_the_same_before_any_deploy(tmp_path: Path) -> None:
    env = netra_env(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/postgres")
    result = run_netra(
        ["config", "check", "--env", "staging", "--service", "backend", "--json"], env
    )
    assert result.returncode == 1
    assert '"setting": "AUTH_SERVICE_URL"' in result.stdout
    assert '"setting": "SERVICE_SECRET"' in result.stdout


def test_websocket_before_startup_completes_is_told_to_retry(
    make_settings: SettingsFactory,
) -> None:
    client = TestClient(create_app(make_settings()))  # lifespan not entered: not started
    # Accepted (with the protocol the browser asked for) and then closed with a code: a
    # refusal at the HTTP level would reach a browser as a bare 1006.
    with client.websocket_connect("/ws", subprotocols=["netra.v1"]) as ws:
        assert ws.accepted_subprotocol == "netra.v1"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1013, "service is starting, retry shortly")
