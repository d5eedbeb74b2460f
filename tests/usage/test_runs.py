"""Budgets and metrics around real runs: a run that crosses a budget mid-way finishes the
model call under way and stops with `agent_error` (quota_exceeded) before calling a tool;
/metrics counts what the dashboard and alerts read."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from openai import AsyncOpenAI
from sqlalchemy import select

from netra.agents import default_tools
from netra.agents.providers.openai import OpenAIAgent
from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.chat.models import Run
from netra.db.base import utcnow
from netra.service import build_app
from netra.testing import ScriptedModelServer, answer_chunks, chunk
from netra.usage.models import UserDay
from tests.support.apps import SettingsFactory
from tests.support.chat import Serve, Server, start_server, stop_server
from tests.support.usage import finished, post

ADMIN = "root"


@pytest.fixture
async def model_server() -> AsyncIterator[ScriptedModelServer]:
    async with ScriptedModelServer() as server:
        yield server


@pytest.fixture
async def openai_server(
    make_settings: SettingsFactory,
    database_env: dict[str, str],
    model_server: ScriptedModelServer,
) -> AsyncIterator[Server]:
    """The embedded app whose agent is the openai provider talking to `model_server`."""
    settings = make_settings(**database_env, ENVIRONMENT="development")

    def agent(_: object) -> OpenAIAgent:
        client = AsyncOpenAI(api_key="unused", base_url=model_server.base_url, max_retries=0)
        return OpenAIAgent(client, "tiny-model", default_tools())

    chat = ChatComponent(agent_factory=agent)
    srv = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
    await srv.users.sign_in(ADMIN)
    try:
        yield srv
    finally:
        await stop_server(srv)


def tool_call(tokens_in: int, tokens_out: int) -> list[dict[str, object]]:
    call = {
        "index": 0,
        "id": "call-1",
        "type": "function",
        "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
    }
    usage = {"prompt_tokens": tokens_in, "completion_tokens": tokens_out}
    return [chunk(tool_calls=[call]), chunk(finish="tool_calls"), chunk(usage=usage)]


def sample(metrics: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", metrics, re.MULTILINE)
    assert match, f"{series} not in /metrics"
    return float(match.group(1))


async def test_a_run_crossing_its_budget_stops_after_the_model_call(
    openai_server: Server,
    model_server: ScriptedModelServer,
) -> None:
    srv = openai_server
    model_server.script(model_server.sse(tool_call(40, 9)), model_server.sse(answer_chunks("42")))
    async with srv.http(ADMIN) as admin:
        put = await admin.put("/api/admin/budgets/roles/user", json={"tokens_per_day": 30})
        assert put.status_code == 200, put.text
    async with srv.http("alice") as client:
        posted = await post(client, "what is 6*7?")
        assert posted.status_code == 202, posted.text
        events = await finished(client, posted.json()["message"]["thread_id"])
        refused = await post(client, "and now?")
        usage = (await client.get("/api/usage")).json()
        metrics = (await client.get("/metrics")).text
    end = events[-1]
    assert end["type"] == "agent_error"
    assert end["payload"]["code"] == "quota_exceeded"
    assert "tokens_per_day" in end["payload"]["reason"]
    assert "tool_executing" not in [e["type"] for e in events]
    assert len(model_server.requests) == 1  # no further model call
    assert refused.status_code == 429
    assert refused.json()["detail"]["limit"] == "tokens_per_day"
    assert usage["totals"]["input_tokens"] == 40
    assert usage["totals"]["output_tokens"] == 9
    assert usage["totals"]["estimated_runs"] == 0
    assert usage["totals"]["failed_runs"] == 1
    assert sample(metrics, 'netra_quota_refusals_total{limit="tokens_per_day"}') == 2
    assert sample(metrics, 'netra_run_errors_total{code="quota_exceeded"}') == 1
    assert sample(metrics, 'netra_tokens_total{direction="input",model="tiny-model"}') == 40


async def test_metrics_count_runs_first_tokens_and_tool_calls(
    serve: Serve,
) -> None:
    srv = await serve()
    async with srv.http("alice") as client:
        posted = await post(client, "search my notes")
        await finished(client, posted.json()["message"]["thread_id"])
        metrics = (await client.get("/metrics")).text
    assert sample(metrics, 'netra_runs_total{outcome="completed"}') == 1
    assert sample(metrics, "netra_runs_active") == 0
    assert sample(metrics, 'netra_time_to_first_token_seconds_count{model="scripted"}') == 1
    assert sample(metrics, 'netra_tool_calls_total{outcome="ok",server="builtin"}') == 1
    assert sample(metrics, "netra_approvals_waiting") == 0
    assert sample(metrics, 'netra_tokens_total{direction="output",model="scripted"}') > 0


async def in_flight(srv: Server, user_id: str) -> int:
    async with srv.backend.runtime.db() as session:
        flying = await session.scalar(select(UserDay.in_flight).where(UserDay.user_id == user_id))
    return int(flying or 0)


async def test_a_run_swept_after_its_instance_died_gives_back_its_place_in_flight(
    serve: Serve,
) -> None:
    srv = await serve(ENVIRONMENT="development")
    await srv.users.sign_in(ADMIN)
    alice = await srv.users.id("alice")
    async with srv.http(ADMIN) as admin:
        put = await admin.put("/api/admin/budgets/roles/user", json={"messages_per_day": 5})
        assert put.status_code == 200, put.text
    async with srv.http("alice") as client:
        posted = await post(client, "hang")
        assert posted.status_code == 202, posted.text
    run_id = posted.json()["run_id"]
    assert await in_flight(srv, alice) == 1
    # Its instance dies: the lease is no longer renewed, and nothing here runs it.
    runs = srv.backend.runs
    task = runs.tasks.pop(run_id)
    async with srv.backend.runtime.db.begin() as session:
        run = await session.get(Run, run_id)
        assert run is not None
        assert run.admitted_on == utcnow().date()
        run.instance_id, run.lease_expires_at = "crashed-host:1", utcnow() - timedelta(seconds=1)
    assert await runs.leases.sweep() == 1
    assert await in_flight(srv, alice) == 0
    # The "dead" task ending late changes nothing: the sweeper's agent_error was the last word.
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await in_flight(srv, alice) == 0
    async with srv.http(ADMIN) as admin:
        board = (await admin.get("/api/admin/dashboard")).json()
        usage = (await admin.get("/api/admin/usage", params={"user_id": alice})).json()
    async with srv.http("alice") as client:
        metrics = (await client.get("/metrics")).text
    assert board["live"]["active_runs"] == 0
    assert sample(metrics, "netra_runs_active") == 0
    assert [e["run_id"] for e in board["recent_errors"]] == [run_id]
    assert usage["totals"]["failed_runs"] == 1
    assert usage["totals"]["runs"] == 1


@pytest.mark.parametrize("database_env", ["sqlite"], indirect=True)
async def test_a_run_that_fell_back_is_charged_at_the_price_of_the_model_that_answered(
    make_settings: SettingsFactory, database_env: dict[str, str], tmp_path: Path
) -> None:
    async with ScriptedModelServer() as cheap, ScriptedModelServer() as dear:
        cheap.script(cheap.status(500, '{"error": {"message": "overloaded"}}'))
        dear.script(dear.sse(answer_chunks("hi", usage=(1000, 200))))
        models = tmp_path / "models.toml"
        models.write_text(
            f"""
[[models]]
id = "cheap"
provider = "openai"
base_url = "{cheap.base_url}"
price_in = 1.0
price_out = 2.0
fallback = "dear"

[[models]]
id = "dear"
provider = "openai"
base_url = "{dear.base_url}"
price_in = 10.0
price_out = 30.0
""",
            encoding="utf-8",
        )
        settings = make_settings(**database_env, MODELS_FILE=str(models), OPENAI_MAX_RETRIES="0")
        chat = ChatComponent()
        srv = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
        try:
            async with srv.http("alice") as client:
                posted = await post(client, "hello")
                assert posted.status_code == 202, posted.text
                events = await finished(client, posted.json()["message"]["thread_id"])
                usage = (await client.get("/api/usage", params={"group_by": "model"})).json()
        finally:
            await stop_server(srv)
    assert events[-1]["type"] == "agent_completed"
    assert [e["payload"]["model"] for e in events if e["type"] == "agent_started"][-1] == "dear"
    (row,) = usage["items"]
    assert row["model"] == "dear"
    assert (row["input_tokens"], row["output_tokens"]) == (1000, 200)
    # dear's price: (1000 * 10 + 200 * 30) per million tokens; cheap's would be 0.0014.
    assert row["cost"] == pytest.approx(0.016)
