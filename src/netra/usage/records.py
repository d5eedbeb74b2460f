"""What an ended run's usage writes: its `run_usage` row and its shares of the
`usage_daily` and `user_days` aggregates, added with `INSERT ... ON CONFLICT DO UPDATE SET
x = x + excluded.x` (no read-modify-write, no lost update), in the transaction that ends
the run (netra.chat.write_group)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from netra.db.base import utcnow
from netra.usage.models import DAILY_SUMS, RunUsage, UsageDaily, UserDay
from netra.usage.tally import RunTally


def run_rows(
    tally: RunTally,
    *,
    status: str,
    error_code: str | None,
    cost: float | None,
    admitted: bool,
) -> UsageRows:
    """The run's usage row and what it adds to the aggregates, written (write_usage)
    in the transaction that ends the run."""
    first = tally.first_token_seconds
    key = {"user_id": tally.user_id, "day": tally.day}
    counts = {
        "input_tokens": tally.input_tokens,
        "output_tokens": tally.output_tokens,
        "tool_calls": tally.tool_calls,
        "tool_errors": tally.tool_errors,
        "duration_ms": tally.duration_ms,
    }
    run = {
        **key,
        **counts,
        "run_id": tally.run_id,
        "thread_id": tally.thread_id,
        "model": tally.model,
        "provider": tally.provider,
        "assistant": tally.assistant,
        "status": status,
        "error_code": error_code,
        "estimated": tally.estimated,
        "first_token_ms": None if first is None else round(first * 1000),
        "cost": cost,
        "started_at": tally.started_at,
        "finished_at": utcnow(),
    }
    daily = {
        **key,
        **counts,
        "model": tally.model,
        "runs": 1,
        "failed_runs": int(status != "completed"),
        "estimated_runs": int(tally.estimated),
        "cost": cost or 0.0,
        "unpriced_runs": int(cost is None),
    }
    day = {
        **key,
        "email": tally.email,
        "tokens": tally.tokens,
        "cost": cost or 0.0,
        # Leaves its place in flight; a run no budget admitted still counts as a
        # message of its day (an admitted one was counted when admitted).
        "in_flight": -int(admitted),
        "messages": int(not admitted),
        "max_run_tokens": tally.tokens,
        "max_run_cost": cost or 0.0,
    }
    return UsageRows(run, daily, day)


@dataclass(frozen=True)
class UsageRows:
    """One ended run's usage: its `run_usage` row, and its share of `usage_daily` and of
    `user_days`."""

    run: dict[str, Any]
    daily: dict[str, Any]
    day: dict[str, Any]


async def write_usage(session: AsyncSession, rows: list[UsageRows]) -> None:
    """The usage of runs ending in one transaction: three statements (executemany), the
    aggregate rows taken in key order (every transaction takes them so: no deadlock)."""
    statements = _STATEMENTS[session.get_bind().dialect.name]
    ordered = sorted(
        rows, key=lambda r: (r.daily["user_id"], str(r.daily["day"]), r.daily["model"])
    )
    await session.execute(statements.run, [r.run for r in ordered])
    await session.execute(statements.daily, [r.daily for r in ordered])
    await session.execute(statements.day, [r.day for r in ordered])


class _Statements:
    """The recording statements of one dialect (SQLite's ON CONFLICT takes the same
    arguments as PostgreSQL's; its two-argument max() is greatest())."""

    def __init__(self, insert: Any, greatest: Any) -> None:
        # On the tables, not the mapped classes: plain executemany, not the ORM's bulk
        # insert (the rows are dicts already), on the path of every run's end.
        self.run = insert(_table(RunUsage))
        daily = insert(_table(UsageDaily))
        self.daily = daily.on_conflict_do_update(
            index_elements=["user_id", "day", "model"],
            set_={name: daily.table.c[name] + daily.excluded[name] for name in DAILY_SUMS},
        )
        day = insert(_table(UserDay))
        was = day.table.c
        added = ("tokens", "cost", "in_flight", "messages")
        self.day = day.on_conflict_do_update(
            index_elements=["user_id", "day"],
            set_={
                "email": func.coalesce(day.excluded.email, was.email),
                **{name: was[name] + day.excluded[name] for name in added},
                "max_run_tokens": greatest(was.max_run_tokens, day.excluded.max_run_tokens),
                "max_run_cost": greatest(was.max_run_cost, day.excluded.max_run_cost),
            },
        )


def _table(mapped: type) -> Table:
    return cast(Table, mapped.__table__)  # type: ignore[attr-defined]


_STATEMENTS = {
    "postgresql": _Statements(postgresql.insert, func.greatest),
    "sqlite": _Statements(sqlite.insert, func.max),
}
