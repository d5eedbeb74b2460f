"""Usage reports from the daily aggregates: grouped by day, model or user, filtered by
user, model and period; as JSON rows or as CSV safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.usage.models import DAILY_SUMS, UsageDaily, UserDay

GroupBy = Literal["day", "model", "user"]
SUMS = DAILY_SUMS
_KEYS = {"day": UsageDaily.day, "model": UsageDaily.model, "user": UsageDaily.user_id}
# A cell a spreadsheet would run as a formula (or DDE) starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class UsageQuery:
    start: date
    end: date
    group_by: GroupBy = "day"
    user_id: str | None = None
    model: str | None = None


async def usage_rows(
    db: async_sessionmaker[AsyncSession], query: UsageQuery
) -> list[dict[str, Any]]:
    """One row per group, with every total, ordered by the group's key."""
    key = _KEYS[query.group_by]
    columns = [func.coalesce(func.sum(getattr(UsageDaily, name)), 0).label(name) for name in SUMS]
    statement = (
        select(key.label("key"), *columns)
        .where(UsageDaily.day >= query.start, UsageDaily.day <= query.end)
        .group_by(key)
        .order_by(key)
    )
    if query.user_id is not None:
        statement = statement.where(UsageDaily.user_id == query.user_id)
    if query.model is not None:
        statement = statement.where(UsageDaily.model == query.model)
    async with db() as session:
        rows = [dict(row._mapping) for row in await session.execute(statement)]
        emails = await _emails(session, query) if query.group_by == "user" else {}
    items = []
    for row in rows:
        item: dict[str, Any] = {query.group_by: _key(row.pop("key"))}
        if query.group_by == "user":
            item["email"] = emails.get(item["user"])
        item |= {name: _number(name, row[name]) for name in SUMS}
        item["tokens"] = item["input_tokens"] + item["output_tokens"]
        items.append(item)
    return items


def totals(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    summed = {name: _number(name, sum(item[name] for item in items)) for name in SUMS}
    summed["tokens"] = summed["input_tokens"] + summed["output_tokens"]
    return summed


async def _emails(session: AsyncSession, query: UsageQuery) -> dict[str, str | None]:
    """The address each user of the period sent messages with (the auth service owns
    users; the backend keeps what it was shown)."""
    rows = await session.execute(
        select(UserDay.user_id, func.max(UserDay.email))
        .where(UserDay.day >= query.start, UserDay.day <= query.end)
        .group_by(UserDay.user_id)
    )
    return dict(rows.all())


def _key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _number(name: str, value: Any) -> int | float:
    return round(float(value), 6) if name == "cost" else int(value)


def neutralise(cell: Any) -> Any:
    """A text cell that a spreadsheet would evaluate, made plain text (OWASP's advice:
    prefix a single quote)."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def columns(group_by: GroupBy) -> list[str]:
    return [group_by, *(["email"] if group_by == "user" else []), *SUMS, "tokens"]


def as_csv(items: Sequence[dict[str, Any]], group_by: GroupBy) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(group_by), lineterminator="\r\n")
    writer.writeheader()
    for item in items:
        writer.writerow({name: neutralise(value) for name, value in item.items()})
    return out.getvalue()
