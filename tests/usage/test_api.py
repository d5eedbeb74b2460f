"""The usage and budget API as clients use it: a user's own usage after real runs,
admins' reports and CSV, budgets set over HTTP refusing the next message (REST 429 and
WebSocket `error`), and every bad input answered with a reason."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.support.chat import Serve, Server, connect, recv_until
from tests.support.usage import finished, post

ADMIN = "root"  # the first account of a development deployment is its admin


async def started(serve: Serve) -> Server:
    srv = await serve(ENVIRONMENT="development")
    await srv.users.sign_in(ADMIN)
    return srv


async def run_one(srv: Server, user: str, text: str = "hello there") -> dict[str, Any]:
    async with srv.http(user) as client:
        posted = await post(client, text)
        assert posted.status_code == 202, posted.text
        events = await finished(client, posted.json()["message"]["thread_id"])
    assert events[-1]["type"] == "agent_completed"
    return posted.json()


async def test_a_user_sees_their_own_usage_by_day_and_model(serve: Serve) -> None:
    srv = await started(serve)
    await run_one(srv, "alice")
    await run_one(srv, "alice")
    await run_one(srv, "bob")
    async with srv.http("alice") as client:
        by_day = (await client.get("/api/usage")).json()
        by_model = (await client.get("/api/usage", params={"group_by": "model"})).json()
    assert by_day["group_by"] == "day"
    (today,) = by_day["items"]
    assert today["runs"] == 2
    # The scripted agent reports no usage: the tokens are estimated, and flagged so.
    assert today["estimated_runs"] == 2
    assert today["output_tokens"] > 0
    assert by_model["items"][0]["model"] == "scripted"
    assert by_model["totals"]["runs"] == 2


async def test_admins_filter_everyones_usage_and_export_neutralised_csv(
    serve: Serve,
) -> None:
    srv = await started(serve)
    await run_one(srv, "=cmd|calc")
    await run_one(srv, "bob")
    async with srv.http(ADMIN) as client:
        report = await client.get("/api/admin/usage", params={"group_by": "user"})
        exported = await client.get(
            "/api/admin/usage", params={"group_by": "user", "format": "csv"}
        )
        bob = await srv.users.id("bob")
        only_bob = await client.get("/api/admin/usage", params={"user_id": bob})
    assert report.status_code == 200
    assert report.json()["totals"]["runs"] == 2
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    emails = sorted(row["email"] for row in rows)
    assert emails == ["'=cmd|calc@example.com", "bob@example.com"]
    assert only_bob.json()["totals"]["runs"] == 1


async def test_usage_endpoints_refuse_bad_input(serve: Serve) -> None:
    srv = await started(serve)
    async with srv.http("alice") as client:
        backwards = await client.get(
            "/api/usage", params={"from": "2026-02-02", "to": "2026-02-01"}
        )
        not_a_date = await client.get("/api/usage", params={"from": "yesterday"})
        grouping = await client.get("/api/usage", params={"group_by": "user"})
        forbidden = await client.get("/api/admin/usage")
        budgets = await client.get("/api/admin/budgets")
    assert backwards.status_code == 400
    assert backwards.json()["detail"]["reason"] == "bad_period"
    assert not_a_date.status_code == 422
    assert grouping.status_code == 422
    assert forbidden.status_code == 403
    assert budgets.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"messages_per_day": 0},
        {"tokens_per_day": -5},
        {"cost_per_day": "ten"},
        {"tokens_per_month": "100"},
        {"messages_per_day": 1.5},
        {"cost_per_month": 0},
        {"messages_per_day": True},
        {"sessions_per_day": 3},
    ],
)
async def test_a_bad_budget_is_refused(serve: Serve, body: dict[str, Any]) -> None:
    srv = await started(serve)
    async with srv.http(ADMIN) as client:
        answer = await client.put("/api/admin/budgets/roles/user", json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail["reason"] == "invalid_request"
    # The message names the limit that was refused.
    assert f"body.{next(iter(body))}" in detail["message"]


async def test_budgets_refuse_the_next_message_on_rest_and_websocket(
    serve: Serve,
) -> None:
    srv = await started(serve)
    alice = await srv.users.id("alice")
    async with srv.http(ADMIN) as admin:
        put = await admin.put(f"/api/admin/budgets/users/{alice}", json={"messages_per_day": 1})
        role = await admin.put("/api/admin/budgets/roles/user", json={"tokens_per_day": 10**6})
        listed = (await admin.get("/api/admin/budgets")).json()
    assert put.status_code == 200, put.text
    assert put.json()["messages_per_day"] == 1
    assert role.json()["tokens_per_day"] == 10**6
    assert [b["name"] for b in listed["users"]] == [alice]
    assert [b["name"] for b in listed["roles"]] == ["user"]

    await run_one(srv, "alice")
    async with srv.http("alice") as client:
        refused = await post(client)
    assert refused.status_code == 429
    detail = refused.json()["detail"]
    assert detail["reason"] == "quota_exceeded"
    assert detail["limit"] == "messages_per_day"
    assert detail["resets_at"].endswith("T00:00:00Z")
    assert int(refused.headers["Retry-After"]) > 0

    async with srv.http("alice") as client:
        thread = (await client.post("/api/threads", json={"title": "t"})).json()
    async with connect(srv, "alice") as ws:
        message = {"type": "send_message", "id": "m1", "thread_id": thread["id"], "text": "hi"}
        await ws.send(json.dumps(message))
        error = (await recv_until(ws, "error"))[-1]
    assert error["payload"]["code"] == "quota_exceeded"
    assert error["payload"]["limit"] == "messages_per_day"
    assert "resets_at" in error["payload"]

    # null removes the limit: the next message goes through.
    async with srv.http(ADMIN) as admin:
        cleared = await admin.put(
            f"/api/admin/budgets/users/{alice}", json={"messages_per_day": None}
        )
    assert cleared.json()["messages_per_day"] is None
    await run_one(srv, "alice")
