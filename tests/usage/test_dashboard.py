"""`GET /api/admin/dashboard`: the JSON the admin charts draw, after real runs."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Histogram

from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.service import build_app
from netra.testing import ScriptedModelServer, free_port
from netra.usage.dashboard import quantile
from netra.usage.store import Recent
from tests.support.apps import SettingsFactory
from tests.support.chat import Serve, start_server, stop_server
from tests.support.mcp import FAULT_SERVER
from tests.support.usage import finished, post

ADMIN = "root"


async def test_the_dashboard_shows_runs_errors_usage_and_endpoints(
    serve: Serve,
) -> None:
    srv = await serve(ENVIRONMENT="development")
    await srv.users.sign_in(ADMIN)
    alice = await srv.users.id("alice")
    async with srv.http("alice") as client:
        for text in ("hello", "crash now"):
            posted = await post(client, text)
            await finished(client, posted.json()["message"]["thread_id"])
        forbidden = await client.get("/api/admin/dashboard")
    async with srv.http(ADMIN) as admin:
        answer = await admin.get("/api/admin/dashboard")
    assert forbidden.status_code == 403
    assert answer.status_code == 200, answer.text
    board = answer.json()
    assert len(board["per_minute"]) == 60
    assert sum(m["runs"] for m in board["per_minute"]) == 2
    assert sum(m["errors"] for m in board["per_minute"]) == 1
    (today,) = board["per_day"]
    assert today["runs"] == 2
    assert today["tokens"] > 0
    assert board["top_users"][0]["user_id"] == alice
    assert board["top_models"][0]["model"] == "scripted"
    (error,) = board["recent_errors"]
    assert error["user_id"] == alice
    assert error["code"] == "internal"
    assert error["reason"]
    assert board["live"]["active_runs"] == 0
    assert board["live"]["approvals_waiting"] == 0
    assert board["live"]["time_to_first_token"]["p50"] is not None
    (endpoint,) = board["endpoints"]
    assert endpoint["kind"] == "model"
    assert endpoint["check"] == "agent"
    assert endpoint["status"] == "pass"


def catalog(tmp_path: Path, up_url: str, down_url: str) -> Path:
    """Two models (the default one up, the other's server gone) and two MCP servers (the
    SDK-written fault server up, a command that does not exist down)."""
    path = tmp_path / "models.toml"
    path.write_text(
        f"""
[[models]]
id = "main"
provider = "openai"
base_url = "{up_url}"

[[models]]
id = "backup"
provider = "openai"
base_url = "{down_url}"

[[mcp_servers]]
name = "fault"
transport = "stdio"
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(FAULT_SERVER))}]

[[mcp_servers]]
name = "ghost"
transport = "stdio"
command = "/nonexistent/mcp-server"
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow  # an MCP server process and two model probes: seconds
@pytest.mark.parametrize("database_env", ["sqlite"], indirect=True)
async def test_the_dashboard_names_each_model_and_mcp_server_with_its_health(
    make_settings: SettingsFactory, database_env: dict[str, str], tmp_path: Path
) -> None:
    async with ScriptedModelServer() as model_server:
        gone = f"http://127.0.0.1:{free_port()}/v1"
        models = catalog(tmp_path, model_server.base_url, gone)
        settings = make_settings(
            **database_env,
            ENVIRONMENT="development",
            MODELS_FILE=str(models),
            OPENAI_MAX_RETRIES="0",
        )
        chat = ChatComponent()
        server = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
        try:
            await server.users.sign_in(ADMIN)
            async with server.http(ADMIN) as admin:
                answer = await admin.get("/api/admin/dashboard")
                ready = (await admin.get("/health/ready")).json()["checks"]
        finally:
            await stop_server(server)
    assert answer.status_code == 200, answer.text
    board = answer.json()
    shown = {(e["kind"], e["name"]): e for e in board["endpoints"]}
    assert sorted(shown) == [
        ("mcp", "fault"),
        ("mcp", "ghost"),
        ("model", "backup"),
        ("model", "main"),
    ]
    assert shown["model", "main"]["status"] == "pass"
    assert shown["model", "backup"]["status"] == "warn"
    assert gone in shown["model", "backup"]["output"]
    assert shown["mcp", "fault"]["status"] == "pass"
    assert shown["mcp", "ghost"]["status"] == "warn"
    assert shown["mcp", "ghost"]["output"].startswith("ghost is down: cannot start it")
    # The same checks the readiness probe runs, under the same names.
    for endpoint in board["endpoints"]:
        assert ready[endpoint["check"]]["status"] == endpoint["status"]


def test_quantiles_interpolate_within_buckets_like_prometheus() -> None:
    histogram = Histogram(
        "t", "t", ["model"], buckets=(1.0, 2.0, 4.0), registry=CollectorRegistry()
    )
    assert quantile(histogram, 0.5) is None
    for value in (0.5, 1.5, 1.5, 3.0):
        histogram.labels("a").observe(value)
    histogram.labels("b").observe(10.0)
    # 5 observations: 1 ≤ 1 s, 3 ≤ 2 s, 4 ≤ 4 s, 5 in +Inf.
    assert quantile(histogram, 0.5) == pytest.approx(1.75)
    assert quantile(histogram, 0.99) == pytest.approx(4.0)


async def test_the_history_is_read_once_per_interval_however_many_ask() -> None:
    reads: list[int] = []

    async def read() -> int:
        reads.append(1)
        await asyncio.sleep(0.01)
        return len(reads)

    recent = Recent(ttl=60.0)
    answers = await asyncio.gather(*(recent.get(read) for _ in range(5)))
    assert answers == [1] * 5
    assert await Recent(ttl=0.0).get(read) == 2
