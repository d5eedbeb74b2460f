"""Budgets: per user and per role, tokens and/or cost per day and per month, messages
per day. A user's own budget overrides, limit by limit, those of their roles; among
their roles the most generous limit applies; no budget is no limit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from netra.chat.errors import ChatError

LimitName = Literal[
    "messages_per_day", "tokens_per_day", "tokens_per_month", "cost_per_day", "cost_per_month"
]
LIMITS: tuple[LimitName, ...] = (
    "messages_per_day",
    "tokens_per_day",
    "tokens_per_month",
    "cost_per_day",
    "cost_per_month",
)


class BudgetIn(BaseModel):
    """A PUT body: any of the limits; null removes one, absent leaves it as it is. A limit
    is a positive number (to stop someone entirely, disable the account)."""

    model_config = ConfigDict(extra="forbid")

    messages_per_day: int | None = Field(default=None, gt=0, le=10**9, strict=True)
    tokens_per_day: int | None = Field(default=None, gt=0, le=10**15, strict=True)
    tokens_per_month: int | None = Field(default=None, gt=0, le=10**15, strict=True)
    cost_per_day: float | None = Field(default=None, gt=0, le=10**9, allow_inf_nan=False)
    cost_per_month: float | None = Field(default=None, gt=0, le=10**9, allow_inf_nan=False)


@dataclass(frozen=True)
class Limits:
    messages_per_day: int | None = None
    tokens_per_day: int | None = None
    tokens_per_month: int | None = None
    cost_per_day: float | None = None
    cost_per_month: float | None = None

    @property
    def any(self) -> bool:
        return any(getattr(self, name) is not None for name in LIMITS)

    @classmethod
    def of(cls, row: Any) -> Limits:
        return cls(**{name: getattr(row, name) for name in LIMITS})

    def as_dict(self) -> dict[str, int | float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def effective(user: Limits | None, roles: Iterable[Limits]) -> Limits:
    """The user's limits where set, else the most generous of their roles' limits."""
    roles = list(roles)
    chosen: dict[str, Any] = {}
    for name in LIMITS:
        own = getattr(user, name) if user is not None else None
        if own is not None:
            chosen[name] = own
            continue
        # A role without this limit leaves it unlimited for its members.
        values = [getattr(role, name) for role in roles]
        chosen[name] = None if not values or None in values else max(values)
    return Limits(**chosen)


def resets_at(limit: LimitName, day: date) -> datetime:
    """When a limit counted on `day` resets: the next midnight UTC, or the first of the
    next month for monthly limits."""
    if limit.endswith("_month"):
        first = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        return datetime.combine(first, time(), UTC)
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


class QuotaExceeded(ChatError):
    """A run refused, or stopped, by a budget: which limit, its value, when it resets."""

    reason = "quota_exceeded"

    def __init__(self, limit: LimitName, value: float, resets: datetime) -> None:
        what = {
            "messages_per_day": f"{value:g} messages a day",
            "tokens_per_day": f"{value:g} tokens a day",
            "tokens_per_month": f"{value:g} tokens a month",
            "cost_per_day": f"${value:g} a day",
            "cost_per_month": f"${value:g} a month",
        }[limit]
        wait = max(1.0, (resets - datetime.now(UTC)).total_seconds())
        super().__init__(
            f"your budget ({limit}: {what}) is used up; it resets at {_iso(resets)}",
            retry_after=wait,
        )
        self.limit = limit
        self.value = value
        self.resets_at = resets

    def detail(self) -> dict[str, Any]:
        """What a client acts on, beside `reason` and `message`."""
        return {"limit": self.limit, "resets_at": _iso(self.resets_at)}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
