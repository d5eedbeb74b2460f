"""Traces over OTLP to a real receiver process: `netra up` with OTEL_EXPORTER_OTLP_ENDPOINT
set exports the spans of one message (its request, run, tool call) to an OTLP/HTTP
receiver (`python -m oteltap`, from PyPI), and nothing when the setting is absent."""

from __future__ import annotations

import base64
import secrets
import sys
import time
from pathlib import Path

import httpx
import pytest

from netra.testing import PASSWORD, NetraProcess, free_port, netra_env, wait_listening

pytestmark = pytest.mark.slow
RECEIVER = [sys.executable, "-m", "oteltap"]


def message_with_trace(url: str, traceparent: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        credentials = {"email": "otlp@example.com", "password": PASSWORD}
        http.post("/auth/register", json=credentials)
        token = http.post("/auth/login", json=credentials).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        thread = http.post(
            "/api/threads?access_token=leaky-query-token", json={"title": "t"}
        ).json()
        posted = http.post(
            f"/api/threads/{thread['id']}/messages",
            json={"text": "what is 17 * 23?"},
            headers={"traceparent": traceparent},
        )
        assert posted.status_code == 202, posted.text
        for _ in range(300):
            items = http.get(f"/api/threads/{thread['id']}/events").json()["items"]
            if items[-1]["type"] == "agent_completed":
                return
            time.sleep(0.05)
    raise AssertionError("the run did not complete")


def received(receiver: NetraProcess, *needles: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = receiver.logs()
        if all(needle in text for needle in needles):
            return text
        time.sleep(0.2)
    raise AssertionError(f"the receiver never saw {needles}:\n{receiver.logs()[-3000:]}")


def test_spans_reach_a_real_otlp_receiver(tmp_path: Path) -> None:
    port = free_port()
    trace_id = secrets.token_hex(16)
    encoded = base64.b64encode(bytes.fromhex(trace_id)).decode()
    with NetraProcess([], netra_env(tmp_path), port, tmp_path / "otlp.log", RECEIVER) as receiver:
        wait_listening(port)
        env = netra_env(
            tmp_path,
            ENVIRONMENT="development",
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        )
        netra = NetraProcess(
            ["up", "--data-dir", str(tmp_path / "data")], env, free_port(), tmp_path / "netra.log"
        )
        with netra:
            netra.wait_for("/health/ready", timeout=60)
            message_with_trace(netra.url, f"00-{trace_id}-{secrets.token_hex(8)}-01")
        text = received(receiver, "invoke_agent builtin", "execute_tool calculator")
    assert trace_id in text or encoded in text
    assert "POST /api/threads/{thread_id}/messages" in text
    assert PASSWORD not in text
    assert "17 * 23" not in text
    assert "leaky-query-token" not in text
