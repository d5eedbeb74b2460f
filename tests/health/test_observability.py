"""Request ids, metrics, and logs that never carry a secret or a token."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext

from netra.embedded import create_app
from netra.health.tracing import configure_tracing, tracing_enabled
from netra.logs import Redactor, build_handler
from netra.testing import NetraProcess, free_port, netra_env
from tests.support.apps import SettingsFactory, running

JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        (f"subprotocols netra.v1, bearer.{JWT}", JWT),
        (f"GET /api/threads?access_token={JWT}", JWT),
        ("login failed for password=Sup3r-Secret-pw", "Sup3r-Secret-pw"),
        ('{"password": "Sup3r-Secret-pw"}', "Sup3r-Secret-pw"),
        ("postgresql://netra:db-Pa55word@10.0.0.5:5432/netra", "db-Pa55word"),
        ("redis://:redis-Pa55word@cache:6379/0", "redis-Pa55word"),
        ("key nk_abcdef123456_secretpart0123456789 used", "secretpart0123456789"),
        ("refresh_token=opaque-refresh-value-123", "opaque-refresh-value-123"),
        ("client_secret: oidc-client-secret-x", "oidc-client-secret-x"),
    ],
    ids=[
        "bearer-header",
        "ws-subprotocol",
        "query-token",
        "password-pair",
        "json-password",
        "postgres-url",
        "redis-url",
        "api-key",
        "refresh-token",
        "client-secret",
    ],
)
def test_redactor_removes_credentials(text: str, secret: str) -> None:
    assert secret not in Redactor()(text)


def test_exact_secret_values_are_removed_wherever_they_appear(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(SERVICE_SECRET="plain-words-no-pattern-here")
    stream = io.StringIO()
    logger = logging.getLogger("netra.test.redaction")
    logger.handlers[:] = [build_handler(settings.model_copy(update={"log_format": "json"}), stream)]
    logger.propagate = False
    try:
        raise ValueError(f"cannot use plain-words-no-pattern-here with {JWT}")
    except ValueError:
        logger.exception("failed with %s", "plain-words-no-pattern-here")
    record = json.loads(stream.getvalue())
    assert "plain-words-no-pattern-here" not in stream.getvalue()
    assert JWT not in stream.getvalue()
    assert record["message"] == "failed with [redacted]"


async def test_request_id_is_returned_and_kept_when_valid(make_settings: SettingsFactory) -> None:
    async with running(create_app(make_settings())) as client:
        generated = await client.get("/health")
        kept = await client.get("/health", headers={"X-Request-ID": "trace-abc.123"})
        replaced = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert len(generated.headers["x-request-id"]) == 32
    assert kept.headers["x-request-id"] == "trace-abc.123"
    assert replaced.headers["x-request-id"] != "bad id\nwith newline"


async def test_metrics_count_requests_by_route_template(make_settings: SettingsFactory) -> None:
    async with running(create_app(make_settings())) as client:
        for _ in range(3):
            await client.get("/health")
        await client.get("/health/ready")
        await client.get("/no/such/path")
        text = (await client.get("/metrics")).text
    assert 'netra_http_requests_total{method="GET",route="/health",status="200"} 3.0' in text
    assert 'netra_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'netra_readiness_check{check="database"} 1.0' in text
    assert "netra_websocket_closes_total" in text or "netra_websocket_closes" in text


def test_a_real_server_logs_no_password_and_no_token(tmp_path: Path) -> None:
    password = "Correct-Horse-Battery-9"
    env = netra_env(tmp_path, ENVIRONMENT="development", LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    command = ["up", "--data-dir", str(tmp_path)]
    with NetraProcess(command, env, free_port(), tmp_path / "server.log") as server:
        server.wait_for("/health/ready")
        with httpx.Client(base_url=server.url, timeout=10) as http:
            http.post("/auth/register", json={"email": "log@example.com", "password": password})
            tokens = http.post(
                "/auth/login", json={"email": "log@example.com", "password": password}
            ).json()
            http.post("/auth/login", json={"email": "log@example.com", "password": password + "x"})
            access, refresh = tokens["access_token"], tokens["refresh_token"]
            http.get("/auth/me", headers={"Authorization": f"Bearer {access}"})
            http.get(f"/health?access_token={access}&refresh_token={refresh}")
            http.post("/auth/refresh", json={"refresh_token": refresh})
            http.post("/auth/refresh", json={"refresh_token": refresh})  # a replay
    logs = server.logs()  # everything, shutdown included
    assert "/auth/login" in logs, "the access log must have been written"
    assert "access_token=[redacted]" in logs, "the token went through the access log, redacted"
    for secret in (password, access, refresh, access.split(".")[2]):
        assert secret not in logs
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(record.get("request_id") for record in records)


async def test_sign_ins_and_refresh_replays_are_counted(make_settings: SettingsFactory) -> None:
    credentials = {"email": "metrics@example.com", "password": "correct horse battery"}
    async with running(create_app(make_settings(REFRESH_REUSE_GRACE="0"))) as client:
        await client.post("/auth/register", json=credentials)
        tokens = (await client.post("/auth/login", json=credentials)).json()
        await client.post("/auth/login", json={**credentials, "password": "wrong horse battery"})
        await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        text = (await client.get("/metrics")).text
    assert 'netra_logins_total{outcome="success"} 1.0' in text
    assert 'netra_logins_total{outcome="failure"} 1.0' in text
    assert "netra_refresh_replays_total 1.0" in text


async def test_socket_closes_and_delivered_events_are_counted(
    make_settings: SettingsFactory,
) -> None:
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    app = create_app(make_settings())
    with TestClient(app) as client:
        with (
            client.websocket_connect("/ws", subprotocols=["netra.v1", "bearer.x"]) as ws,
            pytest.raises(WebSocketDisconnect),
        ):
            ws.receive_text()
        credentials = {"email": "ws-metrics@example.com", "password": "correct horse battery"}
        client.post("/auth/register", json=credentials)
        token = client.post("/auth/login", json=credentials).json()["access_token"]
        thread = client.post(
            "/api/threads", json={"title": "m"}, headers={"Authorization": f"Bearer {token}"}
        ).json()["id"]
        with client.websocket_connect("/ws", subprotocols=["netra.v1", f"bearer.{token}"]) as ws:
            ws.send_json({"type": "send_message", "thread_id": thread, "text": "what is 2 + 2?"})
            received = [ws.receive_json()["type"]]
            while received[-1] != "agent_completed":
                received.append(ws.receive_json()["type"])
        text = client.get("/metrics").text
    # Every delivery counted, by type (the hub counts a batch's events at once).
    deltas = received.count("message_delta")
    assert deltas >= 1
    assert f'netra_events_sent_total{{type="message_delta"}} {deltas}.0' in text
    assert 'netra_events_sent_total{type="agent_started"} 1.0' in text
    assert 'netra_websocket_closes_total{code="4401"} 1.0' in text
    assert 'netra_events_sent_total{type="agent_completed"} 1.0' in text
    assert 'netra_runs_total{outcome="completed"} 1.0' in text
    assert "netra_websocket_connections_open 0.0" in text


async def test_readiness_proves_the_agent_provider_answers(make_settings: SettingsFactory) -> None:
    async with running(create_app(make_settings())) as client:
        builtin = (await client.get("/health/ready")).json()["checks"]["agent"]
    assert builtin["status"] == "pass"
    assert builtin["output"].startswith("builtin planner over ")
    port = free_port()
    dead = f"http://127.0.0.1:{port}/v1"
    settings = make_settings(AGENT_PROVIDER="openai", OPENAI_BASE_URL=dead, OPENAI_MAX_RETRIES="0")
    async with running(create_app(settings)) as client:
        answer = await client.get("/health/ready")
    assert answer.status_code == 503
    check = answer.json()["checks"]["agent"]
    assert (check["status"], check["observedValue"]) == ("fail", "openai")
    assert f"127.0.0.1:{port}" in check["output"]


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_log_lines_carry_the_trace_id(make_settings: SettingsFactory, log_format: str) -> None:
    settings = make_settings().model_copy(update={"log_format": log_format})
    stream = io.StringIO()
    logger = logging.getLogger(f"netra.test.logs.{log_format}")
    logger.handlers[:] = [build_handler(settings, stream)]
    logger.propagate = False
    trace_id = 0x4BF92F3577B34DA6A3CE929D0E0E4736
    context = SpanContext(trace_id, 0x00F067AA0BA902B7, is_remote=True)
    logger.warning("outside any trace")
    with trace.use_span(NonRecordingSpan(context)):
        logger.warning("inside the trace")
    outside, inside = stream.getvalue().strip().splitlines()[-2:]
    assert "4bf92f3577b34da6a3ce929d0e0e4736" in inside
    assert "trace_id" not in outside
    assert "trace=" not in outside


def test_tracing_stays_off_without_an_endpoint(make_settings: SettingsFactory) -> None:
    assert configure_tracing(make_settings(), "netra-test") is None
    assert not tracing_enabled()
