"""The operator's dashboard: `GET /api/admin/dashboard`, the JSON its charts draw.

Live numbers (runs under way, time to first token, tool outcomes, approvals waiting,
refusals) come from this instance's metrics, the registry `/metrics` exposes; history
(runs and errors per minute, tokens and cost per day, top users and models, recent
errors) from the usage tables, through indexed ranges that stay small whatever the
number of runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from prometheus_client import Histogram
from sqlalchemy import ColumnElement, Integer, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.chat.models import Run
from netra.chat.routes.deps import Backend
from netra.db.base import utcnow
from netra.health.metrics import Metrics
from netra.usage.models import RunUsage, UsageDaily
from netra.usage.routes import Admin

router = APIRouter(tags=["usage"])
MINUTES = 60
DAYS = 30
TOP = 10
RECENT_ERRORS = 20


@router.get(
    "/api/admin/dashboard", summary="What the admin dashboard draws (admins)", response_model=None
)
async def dashboard(backend: Backend, _: Admin) -> JSONResponse:
    runtime = backend.runtime
    readiness = await runtime.health.readiness()
    history = await backend.usage.history.get(lambda: read_history(runtime.db))
    return JSONResponse(
        {
            "generated_at": utcnow().isoformat(),
            "instance": runtime.instance_id,
            "live": live(runtime.metrics),
            **history,
            "endpoints": endpoints(readiness.checks, backend.models.catalog.default.id),
        }
    )


def endpoints(checks: dict[str, dict[str, Any]], default_model: str) -> list[dict[str, Any]]:
    """Each catalog model and MCP server with its health, from the readiness checks (the
    probes `/health/ready` runs, cached alike): `agent` is the default model's."""
    shown = []
    for check, result in checks.items():
        if check == "agent":
            kind, name = "model", default_model
        elif check.startswith(("model:", "mcp:")):
            kind, _, name = check.partition(":")
        else:
            continue
        shown.append(
            {
                "kind": kind,
                "name": name,
                "check": check,
                "status": result["status"],
                "output": result["output"],
            }
        )
    return shown


async def read_history(db: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with db() as session:
        return {
            "per_minute": await per_minute(session),
            "per_day": await per_day(session),
            "top_users": await top(session, UsageDaily.user_id, "user_id"),
            "top_models": await top(session, UsageDaily.model, "model"),
            "recent_errors": await recent_errors(session),
        }


def live(metrics: Metrics) -> dict[str, Any]:
    sample = metrics.registry.get_sample_value
    tools: dict[str, dict[str, float]] = {}
    for metric in metrics.tool_calls.collect():
        for s in metric.samples:
            if s.name.endswith("_total"):
                server = tools.setdefault(s.labels["server"], {"ok": 0.0, "error": 0.0})
                server[s.labels["outcome"]] = s.value
    return {
        "active_runs": sample("netra_runs_active") or 0,
        "approvals_waiting": sample("netra_approvals_waiting") or 0,
        "time_to_first_token": {
            "p50": quantile(metrics.time_to_first_token, 0.5),
            "p99": quantile(metrics.time_to_first_token, 0.99),
        },
        "tool_failure_rates": {
            server: {**counts, "rate": counts["error"] / (counts["ok"] + counts["error"])}
            for server, counts in tools.items()
            if counts["ok"] + counts["error"]
        },
    }


def quantile(histogram: Histogram, q: float) -> float | None:
    """The q-quantile over every label set, interpolated within buckets as Prometheus's
    histogram_quantile does; None before any observation."""
    buckets: dict[float, float] = {}
    for metric in histogram.collect():
        for s in metric.samples:
            if s.name.endswith("_bucket"):
                bound = float(s.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + s.value
    bounds = sorted(buckets)
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = bound, count
    return lower


async def per_minute(session: AsyncSession) -> list[dict[str, Any]]:
    """Runs ended and runs failed in each of the last MINUTES minutes (epoch seconds)."""
    since = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)
    epoch: ColumnElement[Any] = func.extract("epoch", RunUsage.finished_at)
    if session.get_bind().dialect.name == "sqlite":
        epoch = func.strftime("%s", RunUsage.finished_at)
    minute = (cast(epoch, Integer) // 60 * 60).label("minute")
    rows = await session.execute(
        select(
            minute,
            func.count(),
            func.sum(case((RunUsage.status == "failed", 1), else_=0)),
        )
        .where(RunUsage.finished_at >= since)
        .group_by(minute)
        .order_by(minute)
    )
    seen = {int(m): (runs, int(errors or 0)) for m, runs, errors in rows}
    start = int(since.timestamp())
    return [
        {"minute": t, "runs": seen.get(t, (0, 0))[0], "errors": seen.get(t, (0, 0))[1]}
        for t in range(start, start + MINUTES * 60, 60)
    ]


async def per_day(session: AsyncSession) -> list[dict[str, Any]]:
    since = utcnow().date() - timedelta(days=DAYS - 1)
    rows = await session.execute(
        select(
            UsageDaily.day,
            func.sum(UsageDaily.input_tokens + UsageDaily.output_tokens),
            func.sum(UsageDaily.cost),
            func.sum(UsageDaily.runs),
        )
        .where(UsageDaily.day >= since)
        .group_by(UsageDaily.day)
        .order_by(UsageDaily.day)
    )
    return [
        {
            "day": day.isoformat(),
            "tokens": int(tokens),
            "cost": round(float(cost), 6),
            "runs": int(runs),
        }
        for day, tokens, cost, runs in rows
    ]


async def top(session: AsyncSession, column: Any, name: str) -> list[dict[str, Any]]:
    """The biggest users (or models) of the last seven days, by tokens."""
    since = utcnow().date() - timedelta(days=6)
    tokens = func.sum(UsageDaily.input_tokens + UsageDaily.output_tokens)
    rows = await session.execute(
        select(column, tokens, func.sum(UsageDaily.cost), func.sum(UsageDaily.runs))
        .where(UsageDaily.day >= since)
        .group_by(column)
        .order_by(tokens.desc())
        .limit(TOP)
    )
    return [
        {name: key, "tokens": int(t), "cost": round(float(c), 6), "runs": int(r)}
        for key, t, c, r in rows
    ]


async def recent_errors(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(RunUsage, Run.error)
        .join(Run, Run.id == RunUsage.run_id, isouter=True)
        .where(RunUsage.status == "failed")
        .order_by(RunUsage.finished_at.desc())
        .limit(RECENT_ERRORS)
    )
    return [
        {
            "run_id": usage.run_id,
            "thread_id": usage.thread_id,
            "user_id": usage.user_id,
            "model": usage.model,
            "code": usage.error_code,
            "reason": error,
            "finished_at": usage.finished_at.isoformat(),
        }
        for usage, error in rows
    ]
