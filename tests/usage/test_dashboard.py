"""`GET /api/admin/dashboard`: the JSON the admin charts draw, after real runs."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Histogram

from netra.usage.dashboard import quantile
from netra.usage.store import Recent
from tests.support.chat import Serve
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
    assert [e["name"] for e in board["endpoints"]] == ["agent"]
    assert board["endpoints"][0]["status"] == "pass"


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
