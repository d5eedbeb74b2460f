"""The usage tables, part of the chat schema (the backend owns runs and their usage).

`run_usage` keeps one row per finished run; `usage_daily` and `user_days` are kept up to
date incrementally by atomic upserts (never by scanning runs), so a report or a budget
check reads a few rows whatever the history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from netra.chat.models import ChatBase
from netra.db.base import UTCDateTime


class RunUsage(ChatBase):
    """What one run used. Its `day` is the UTC day it started: a run that crosses
    midnight counts on the day whose budget admitted it."""

    __tablename__ = "run_usage"
    __table_args__ = (Index("ix_run_usage_user_id_day", "user_id", "day"),)

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    thread_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[date] = mapped_column(Date)
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(40))
    assistant: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(40))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    # True when the provider reported no usage and the tokens were counted or estimated.
    estimated: Mapped[bool] = mapped_column(Boolean)
    tool_calls: Mapped[int] = mapped_column(Integer)
    tool_errors: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    first_token_ms: Mapped[int | None] = mapped_column(Integer)
    # USD; None when the model has no price (reported as unpriced, never as free).
    cost: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class UsageDaily(ChatBase):
    """Totals per user, day and model."""

    __tablename__ = "usage_daily"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer)
    failed_runs: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    estimated_runs: Mapped[int] = mapped_column(Integer)
    tool_calls: Mapped[int] = mapped_column(Integer)
    tool_errors: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[float] = mapped_column(Float)
    unpriced_runs: Mapped[int] = mapped_column(Integer)


# The totals of usage_daily, each added to by every run.
DAILY_SUMS = (
    "runs",
    "failed_runs",
    "input_tokens",
    "output_tokens",
    "estimated_runs",
    "tool_calls",
    "tool_errors",
    "duration_ms",
    "cost",
    "unpriced_runs",
)


class UserDay(ChatBase):
    """A user's day as budgets see it: messages admitted, tokens and cost used, runs in
    flight, and the largest run so far (what one more concurrent run may cost)."""

    __tablename__ = "user_days"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    messages: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[float] = mapped_column(Float)
    in_flight: Mapped[int] = mapped_column(Integer)
    max_run_tokens: Mapped[int] = mapped_column(Integer)
    max_run_cost: Mapped[float] = mapped_column(Float)


class Budget(ChatBase):
    """Limits of one user (`scope` user) or of everyone with a role (`scope` role); a
    None limit is no limit."""

    __tablename__ = "budgets"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    messages_per_day: Mapped[int | None] = mapped_column(Integer)
    tokens_per_day: Mapped[int | None] = mapped_column(BigInteger)
    tokens_per_month: Mapped[int | None] = mapped_column(BigInteger)
    cost_per_day: Mapped[float | None] = mapped_column(Float)
    cost_per_month: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
